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

    /// <summary>Throws when a weight is negative or not a number.</summary>
    public void Check()
    {
        if (!(LambdaF >= 0) || !(LambdaM >= 0))
            throw new ArgumentException($"LambdaF and LambdaM must be ≥ 0; got {LambdaF} and {LambdaM}.");
        if (!double.IsFinite(Margin)) throw new ArgumentException($"Margin must be a finite number; got {Margin}.");
    }

    public override string ToString() => $"m={Margin} λF={LambdaF} λM={LambdaM} ℓ1={L1}";
}
