using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>
/// DynScalar [form ours]: h̃ = h·(1 + β·α) with α = w·h/‖h‖₂ + b computed from the activation itself, one probe (w, b) per
/// (site kind, layer) shared over positions, so it applies to prompts of any length. Parameters [site, layer, width + 1]: w then b.
/// The probe reads the direction of h, not its size: with α = w·h, an attention-sink position whose norm is 100× the others'
/// got |α| ≈ 9 from a w tuned on the others (KL 3–6 on the default model); with h/‖h‖, |α − b| ≤ ‖w‖₂ at every position.
/// </summary>
public sealed class DynScalar : InterventionMethod
{
    public override string Name => "DynScalar";
    public override string Summary => "a probe per site and layer, any prompt length";
    public override bool IsPositional => false;

    /// <summary>α = w·h/‖h‖ moves by at most lr·√width per Adam step (every component of w moves by about lr), so the probes take smaller steps than the positional methods.</summary>
    public override double DefaultLearningRate => 1e-3;

    public override HeatmapStyle Heatmap { get; } = new("probe (‖w‖₂, b)", Diverging: true, ["‖w‖₂", "b"], "probe statistic (shared over positions)");

    protected override long[] Shape(InterventionLayout layout) => [layout.SiteKinds.Count, layout.LayerCount, layout.Width + 1];

    public override Tensor Apply(Tensor theta, Tensor h, Tensor beta)
    {
        using var scope = NewDisposeScope();
        var (w, b) = Probe(theta, theta.shape[0] - 1);
        var direction = Direction(h);
        var alpha = direction.matmul(w) + b; // [batch, position]
        return (h * (beta * alpha.unsqueeze(-1) + 1).to_type(h.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>θ [K, width + 1]: each setting's probe reads its own rows [K, rows, position, width].</summary>
    public override Tensor ApplyStacked(Tensor thetas, Tensor h, Tensor beta)
    {
        using var scope = NewDisposeScope();
        long k = thetas.shape[0], width = thetas.shape[1] - 1;
        var (w, b) = Probe(thetas, width);
        var direction = Direction(h);
        var alpha = direction.matmul(w.reshape(k, 1, width, 1)) + b.reshape(k, 1, 1, 1); // [K, rows, position, 1]
        return (h * (beta * alpha + 1).to_type(h.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>Two columns per (site, layer): ‖w‖₂ (the most α can move from b) and b.</summary>
    public override Tensor Effect(Tensor parameters)
    {
        using var scope = NewDisposeScope();
        var (w, b) = Probe(parameters, parameters.shape[^1] - 1);
        return stack([w.norm(-1), b], -1).MoveToOuterDisposeScope();
    }

    /// <summary>h / ‖h‖₂ per position, in float32: what the probe reads.</summary>
    private static Tensor Direction(Tensor h)
    {
        var h32 = h.to_type(ScalarType.Float32);
        return h32 / h32.norm(-1, keepdim: true).clamp_min(1e-12);
    }

    /// <summary>The "w then b" layout of the last dimension, decoded in this one place.</summary>
    private static (Tensor W, Tensor B) Probe(Tensor parameters, long width) =>
        (parameters.narrow(-1, 0, width), parameters.select(-1, width));
}
