using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;

namespace ActScale.Training;

/// <summary>
/// Everything a training run depends on, with ActScale's defaults [ours unless noted; see docs/method.md]: method
/// ActivScalar; site kinds attn_out and mlp_out on every layer and position [paper]; Adam (β₁ 0.9, β₂ 0.999, ε 1e-8)
/// at the method's default learning rate (<see cref="InterventionMethod.DefaultLearningRate"/>) for 200 steps on
/// minibatches of 32 prompts (each run at β = +1 and β = −1); the loss weights of <see cref="LossSettings"/>; progress
/// every 10 steps; seed 0. Set values by name: <c>new TrainingOptions { Steps = 50, Loss = new() { LambdaM = 0 } }</c>.
/// </summary>
public sealed record TrainingOptions
{
    public static readonly SiteKind[] DefaultSiteKinds = [SiteKind.AttnOut, SiteKind.MlpOut];

    private readonly double? _learningRate;

    public InterventionMethod Method { get; init; } = InterventionMethod.ActivScalar;
    public IReadOnlyList<SiteKind> SiteKinds { get; init; } = DefaultSiteKinds;

    /// <summary>Adam's learning rate: the one set, or else the method's default (so it follows a later change of <see cref="Method"/>).</summary>
    public double LearningRate
    {
        get => _learningRate ?? Method.DefaultLearningRate;
        init => _learningRate = value;
    }

    public int Steps { get; init; } = 200;
    public int BatchSize { get; init; } = 32;
    public int Seed { get; init; }
    public LossSettings Loss { get; init; } = new();
    public int ReportEvery { get; init; } = 10;

    /// <summary>Throws when a value is out of range; the message names the property.</summary>
    public void Check()
    {
        if (Steps < 0) throw new ArgumentException($"Steps must be ≥ 0; got {Steps}.");
        if (BatchSize < 1) throw new ArgumentException($"BatchSize must be ≥ 1; got {BatchSize}.");
        CheckLearningRate(LearningRate);
        if (ReportEvery < 1) throw new ArgumentException($"ReportEvery must be ≥ 1; got {ReportEvery}.");
        Loss.Check();
    }

    /// <summary>The one range check of the learning rate (a positive, finite number), for options and for typed values.</summary>
    public static void CheckLearningRate(double rate)
    {
        if (!(rate > 0) || double.IsInfinity(rate)) throw new ArgumentException($"LearningRate must be a positive number; got {rate}.");
    }

    public override string ToString() =>
        $"{Method} sites=[{string.Join(",", SiteKinds.Select(Site.KindName))}] lr={LearningRate} steps={Steps} batch={BatchSize} seed={Seed} {Loss}";
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
