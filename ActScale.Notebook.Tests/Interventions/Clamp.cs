using ActScale.Interventions;
using static TorchSharp.torch;

namespace ActScale.Tests.Interventions;

/// <summary>
/// A fourth method that exists only in the tests, to prove a method is one class: h̃ = h − β·θ·(h − clamp(h, −1, 1)),
/// one weight θ per (site kind, layer). θ = 0 is the identity; at θ = β = 1 the activation is clamped to [−1, 1].
/// It derives from <see cref="InterventionMethod"/> directly, not from the tests' <see cref="Support.ScalingTestMethod"/>
/// whose shape it shares, because it is the worked example of docs/architecture.md's "add an intervention": it must be
/// the one class a user would write.
/// </summary>
public sealed class Clamp : InterventionMethod
{
    public override string Name => "Clamp";
    public override string Summary => "pulls activations beyond ±1 towards the clamp, one weight per site and layer";
    public override bool IsPositional => false;
    public override HeatmapStyle Heatmap { get; } = new("θ", Diverging: true, ["θ"], "clamp weight");

    protected override long[] Shape(InterventionLayout layout) => [layout.SiteKinds.Count, layout.LayerCount, 1];

    public override Tensor Apply(Tensor theta, Tensor h, Tensor beta)
    {
        using var scope = NewDisposeScope();
        return (h - beta * theta * (h - h.clamp(-1, 1))).MoveToOuterDisposeScope();
    }

    public override Tensor Effect(Tensor parameters) => parameters.alias();
}
