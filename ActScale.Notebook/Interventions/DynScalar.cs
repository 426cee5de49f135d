using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>
/// DynScalar [form ours]: h̃ = h·(1 + β·α) with α = w·h + b computed from the activation itself, one probe (w, b) per
/// (site kind, layer) shared over positions, so it applies to prompts of any length. Parameters [site, layer, width + 1]: w then b.
/// </summary>
public sealed class DynScalar : InterventionMethod
{
    public override string Name => "DynScalar";
    public override string Summary => "a probe per site and layer, any prompt length";
    public override bool IsPositional => false;

    /// <summary>α = w·h moves by about lr·‖h‖₁ per Adam step, so the probes need smaller steps than the positional methods.</summary>
    public override double DefaultLearningRate => 1e-3;

    public override HeatmapStyle Heatmap { get; } = new("probe (‖w‖₂, b)", Diverging: true, ["‖w‖₂", "b"], "probe statistic (shared over positions)");

    protected override long[] Shape(InterventionLayout layout) => [layout.SiteKinds.Count, layout.LayerCount, layout.Width + 1];

    public override Tensor Apply(Tensor theta, Tensor h, Tensor beta)
    {
        using var scope = NewDisposeScope();
        var (w, b) = Probe(theta, theta.shape[0] - 1);
        var alpha = h.to_type(ScalarType.Float32).matmul(w) + b; // [batch, position]
        return (h * (beta * alpha.unsqueeze(-1) + 1).to_type(h.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>Two columns per (site, layer): ‖w‖₂ and b.</summary>
    public override Tensor Effect(Tensor parameters)
    {
        using var scope = NewDisposeScope();
        var (w, b) = Probe(parameters, parameters.shape[^1] - 1);
        return stack([w.norm(-1), b], -1).MoveToOuterDisposeScope();
    }

    /// <summary>The "w then b" layout of the last dimension, decoded in this one place.</summary>
    private static (Tensor W, Tensor B) Probe(Tensor parameters, long width) =>
        (parameters.narrow(-1, 0, width), parameters.select(-1, width));
}
