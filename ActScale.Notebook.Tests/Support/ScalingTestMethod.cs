using ActScale.Interventions;
using static TorchSharp.torch;

namespace ActScale.Tests.Support;

/// <summary>
/// The shape of the test-only methods that make training misbehave on purpose: one weight θ per (site kind, layer),
/// the activation multiplied by a factor of θ and β that each subclass gives. Not registered, so no --method offers
/// them, and <see cref="InterventionMethod.ApplyStacked"/> is left to its one-by-one default.
/// </summary>
public abstract class ScalingTestMethod(string name, string summary, string effectTitle) : InterventionMethod
{
    public override string Name => name;
    public override string Summary => summary;
    public override bool IsPositional => false;
    public override HeatmapStyle Heatmap { get; } = new("θ", Diverging: true, ["θ"], effectTitle);

    protected override long[] Shape(InterventionLayout layout) => [layout.SiteKinds.Count, layout.LayerCount, 1];

    /// <summary>What multiplies the activation; θ = 0 must give 1, the identity.</summary>
    protected abstract Tensor Factor(Tensor theta, Tensor beta);

    public override Tensor Apply(Tensor theta, Tensor h, Tensor beta)
    {
        using var scope = NewDisposeScope();
        return (h * Factor(theta, beta)).MoveToOuterDisposeScope();
    }

    public override Tensor Effect(Tensor parameters) => parameters.alias();
}
