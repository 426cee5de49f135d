using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;

namespace ActScale.Training;

/// <summary>
/// Everything a training run depends on, with ActScale's defaults [ours unless noted; see docs/method.md]:
/// method ActivScalar; site kinds attn_out and mlp_out on every layer and position [paper]; Adam (β₁ 0.9,
/// β₂ 0.999, ε 1e-8) with learning rate 0.01 (DynScalar 0.001; see <see cref="DefaultLearningRate"/>) for 200 steps on minibatches of 32 prompts (each run at β = +1 and
/// β = −1); margin m = 1 logit; λ_F = 1; λ_M = 1e-3 on the summed ℓ1; progress every 10 steps; seed 0.
/// </summary>
public sealed record TrainingOptions(
    InterventionMethod Method = InterventionMethod.ActivScalar,
    SiteKind[]? SiteKinds = null,
    double? LearningRate = null,
    int Steps = 200,
    int BatchSize = 32,
    int Seed = 0,
    double Margin = 1.0,
    double LambdaF = 1.0,
    double LambdaM = 1e-3,
    L1Reduction L1 = L1Reduction.Sum,
    int ReportEvery = 10)
{
    public static readonly SiteKind[] DefaultSiteKinds = [SiteKind.AttnOut, SiteKind.MlpOut];

    /// <summary>
    /// Learning rate used when <see cref="LearningRate"/> is null: 0.01 for ActivScalar and SteerVec; 0.001 for DynScalar,
    /// whose α = w·h moves by about lr·‖h‖₁ per Adam step (so its probes need smaller steps).
    /// </summary>
    public static double DefaultLearningRate(InterventionMethod method) => method == InterventionMethod.DynScalar ? 1e-3 : 1e-2;

    /// <summary>The learning rate in use: <see cref="LearningRate"/>, or the method's default.</summary>
    public double Rate => LearningRate ?? DefaultLearningRate(Method);

    /// <summary>The site kinds in use (<see cref="DefaultSiteKinds"/> when none were given).</summary>
    public IReadOnlyList<SiteKind> Sites => SiteKinds is { Length: > 0 } kinds ? kinds : DefaultSiteKinds;

    internal void Check()
    {
        if (Steps < 0) throw new ArgumentException($"Steps must be ≥ 0; got {Steps}.");
        if (BatchSize < 1) throw new ArgumentException($"BatchSize must be ≥ 1; got {BatchSize}.");
        if (!(Rate > 0) || double.IsInfinity(Rate)) throw new ArgumentException($"LearningRate must be a positive number; got {Rate}.");
        if (LambdaF < 0 || LambdaM < 0 || double.IsNaN(LambdaF) || double.IsNaN(LambdaM))
            throw new ArgumentException($"LambdaF and LambdaM must be ≥ 0; got {LambdaF} and {LambdaM}.");
        if (ReportEvery < 1) throw new ArgumentException($"ReportEvery must be ≥ 1; got {ReportEvery}.");
    }

    public override string ToString() =>
        $"{Method} sites=[{string.Join(",", Sites.Select(Site.KindName))}] lr={Rate} steps={Steps} batch={BatchSize} seed={Seed} " +
        $"m={Margin} λF={LambdaF} λM={LambdaM} ℓ1={L1}";
}

/// <summary>
/// One progress report: the step just done, the loss and each of its terms on that step's minibatch (the ℓ1 term raw,
/// before λ_M), time so far and the estimated time left.
/// </summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double Effectiveness, double Faithfulness, double L1,
    TimeSpan Elapsed, TimeSpan Eta)
{
    public override string ToString() =>
        $"step {Step}/{TotalSteps}  loss {Loss:G4} (eff {Effectiveness:G4}, KL {Faithfulness:G4}, ℓ1 {L1:G4})  {Elapsed.TotalSeconds:F1}s, ETA {Eta.TotalSeconds:F0}s";
}
