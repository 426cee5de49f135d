using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;

namespace ActScale.Training;

/// <summary>
/// Everything a training run depends on, with ActScale's defaults [ours unless noted; see docs/method.md]: method
/// ActivScalar; site kinds attn_out and mlp_out on every layer and position [paper]; Adam (β₁ 0.9, β₂ 0.999, ε 1e-8)
/// at the method's default learning rate (<see cref="InterventionMethod.DefaultLearningRate"/>) for 200 steps on
/// minibatches of 32 prompts (each run at β = +1 and β = −1); the loss weights of <see cref="LossSettings"/>; progress
/// every 10 steps; seed 0; positions from 1 on (the first token is left alone). Set values by name: <c>new TrainingOptions { Steps = 50, Loss = new() { LambdaM = 0 } }</c>.
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

    /// <summary>
    /// Positions before this one are never intervened on, by any method. Default 1: position 0 carries huge-norm
    /// activations that act as an attention sink, and scaling it perturbs every later position; leaving it out cost
    /// nothing measurable on the shipped model (docs/method.md). Runs saved without it used 0.
    /// </summary>
    public int FirstPosition { get; init; } = 1;

    /// <summary>
    /// Adam moves each parameter by about the learning rate per step. Measured on the shipped model (CCC, 200 steps, 32
    /// prompts): the final loss was best at 0.01–0.1 for every method, 1.6–2× worse at 1, and at 10 and 100 the runs
    /// were worse still with ‖θ‖₁ of 10³–10⁵ (ActivScalar 4.4 and 28 against 1.0), so rates above 1 are refused.
    /// </summary>
    public static readonly SettingRange LearningRateRange = new("LearningRate", 0, 1, MinExclusive: true)
    {
        Reason = "Above 1 Adam's steps make parameters of size 10³–10⁵ (measured); the defaults are 0.01 (ActivScalar, SteerVec) and 0.001 (DynScalar).",
    };

    /// <summary>The schedule is drawn lazily, so steps and batch need no memory up front; the limits keep step counts an int.</summary>
    public static readonly SettingRange StepsRange = new("Steps", 0, 1_000_000);
    public static readonly SettingRange BatchSizeRange = new("BatchSize", 1, 1_000_000);

    /// <summary>
    /// The seed orders the minibatches (a seeded shuffle per epoch) and seeds torch. .NET's seeded <see cref="Random"/>
    /// reduces a seed to |s| mod 2147483647, so −1 would equal 1 and 2147483647 (and −2147483648) would equal 0: those
    /// seeds are refused rather than silently repeating a run, and every seed from 0 to 2147483646 gives its own order.
    /// When the batch holds every training prompt the order cannot matter, and every seed gives the same run.
    /// </summary>
    public static readonly SettingRange SeedRange = new("Seed", 0, int.MaxValue - 1)
    {
        Reason = "Seeds outside this range would repeat the minibatch order of a seed inside it.",
    };

    public static readonly SettingRange ReportEveryRange = new("ReportEvery", 1, int.MaxValue);

    /// <summary>The upper limit is the prompt length, which the task sets: see <see cref="CheckFirstPosition"/>.</summary>
    public static readonly SettingRange FirstPositionRange = new("FirstPosition", 0, double.PositiveInfinity)
    {
        Reason = "It is a token position: 0 intervenes on every position, 1 (the default) leaves the first token alone.",
    };

    /// <summary>Throws when a value is out of range; the message names the property.</summary>
    public void Check()
    {
        StepsRange.Check(Steps);
        BatchSizeRange.Check(BatchSize);
        SeedRange.Check(Seed);
        CheckLearningRate(LearningRate);
        ReportEveryRange.Check(ReportEvery);
        FirstPositionRange.Check(FirstPosition);
        foreach (var kind in SiteKinds)
            if (!Enum.IsDefined(kind))
                throw new ArgumentException($"SiteKinds holds {(int)kind}, which is not a site kind; use {string.Join(", ", Enum.GetNames<SiteKind>().Select(n => "SiteKind." + n))}.");
        Loss.Check();
    }

    /// <summary>Throws unless every prompt, of <paramref name="promptLengths"/> tokens, has a position at or after <see cref="FirstPosition"/> to intervene on.</summary>
    public void CheckFirstPosition(IEnumerable<int> promptLengths)
    {
        int shortest = promptLengths.DefaultIfEmpty(int.MaxValue).Min();
        if (FirstPosition >= shortest)
            throw new ArgumentException($"FirstPosition {FirstPosition} leaves nothing to intervene on in the task's {shortest}-token prompts " +
                $"(positions 0 to {shortest - 1}). Choose a first position from 0 to {shortest - 1} (--first-position), or use longer prompts.");
    }

    /// <summary>The one range check of the learning rate, for options and for typed values.</summary>
    public static void CheckLearningRate(double rate) => LearningRateRange.Check(rate);

    public override string ToString() =>
        $"{Method} sites=[{string.Join(",", SiteKinds.Select(Site.KindName))}] lr={LearningRate} steps={Steps} batch={BatchSize} seed={Seed} first={FirstPosition} {Loss}";
}

/// <summary>
/// One progress report: the step just done, the loss and each of its terms on that step's minibatch (the ℓ1 term raw,
/// before λ_M), time so far and the estimated time left.
/// </summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double Effectiveness, double Faithfulness, double L1,
    TimeSpan Elapsed, TimeSpan Eta)
{
    /// <summary>The report after <paramref name="step"/> of <paramref name="totalSteps"/>, from the step's four terms (loss, L_E, L_F, ℓ1).</summary>
    internal static TrainingProgress At(int step, int totalSteps, ReadOnlySpan<float> terms, TimeSpan elapsed) =>
        new(step, totalSteps, terms[0], terms[1], terms[2], terms[3], elapsed, TimeSpan.FromTicks(elapsed.Ticks / step * (totalSteps - step)));

    /// <summary>Whether every term of the report is finite; a training whose report is not has diverged.</summary>
    internal bool IsFinite => double.IsFinite(Loss) && double.IsFinite(Effectiveness) && double.IsFinite(Faithfulness) && double.IsFinite(L1);

    public override string ToString() =>
        $"step {Step}/{TotalSteps}  loss {Loss:G4} (eff {Effectiveness:G4}, KL {Faithfulness:G4}, ℓ1 {L1:G4})  {Elapsed.TotalSeconds:F1}s, ETA {Eta.TotalSeconds:F0}s";
}
