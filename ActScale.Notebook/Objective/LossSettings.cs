namespace ActScale.Objective;

/// <summary>
/// The weights of L(θ) = L_E(θ; m) + λ_F·L_F(θ) + λ_M·‖θ‖₁ [defaults ours; see docs/method.md]: margin m = 1 logit,
/// λ_F = 1, λ_M = 1e-3 on the summed ℓ1. The values are init-only properties with no positional constructor, so each is
/// named where it is set (<c>new LossSettings { LambdaF = 1, LambdaM = 1e-3 }</c>) and λ_F and λ_M cannot be swapped by position.
/// </summary>
public sealed record LossSettings
{
    public double Margin { get; init; } = 1.0;
    public double LambdaF { get; init; } = 1.0;
    public double LambdaM { get; init; } = 1e-3;
    public L1Reduction L1 { get; init; } = L1Reduction.Sum;

    /// <summary>
    /// The margin is a logit difference to reach: at 0 or below, θ = 0 already meets it (a run that learns nothing).
    /// The loss is computed in float32, so the margin and the weights stop at 10⁶: far above any useful value, and
    /// far below float32's overflow, which would otherwise show as a diverged training.
    /// </summary>
    public static readonly SettingRange MarginRange = new("Margin", 0, 1e6, MinExclusive: true);
    public static readonly SettingRange LambdaFRange = new("LambdaF", 0, 1e6);
    public static readonly SettingRange LambdaMRange = new("LambdaM", 0, 1e6);

    /// <summary>Throws when a value is outside its range (negative, not finite, or a margin ≤ 0); the message names it.</summary>
    public void Check()
    {
        MarginRange.Check(Margin);
        LambdaFRange.Check(LambdaF);
        LambdaMRange.Check(LambdaM);
        if (!Enum.IsDefined(L1)) throw new ArgumentException($"L1 must be Sum or Mean; got {(int)L1}.");
    }

    public override string ToString() => $"m={Margin} λF={LambdaF} λM={LambdaM} ℓ1={L1}";
}
