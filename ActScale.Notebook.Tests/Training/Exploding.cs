using ActScale.Interventions;
using static TorchSharp.torch;

namespace ActScale.Tests.Training;

/// <summary>
/// A test-only method whose effect grows as exp(1000·θ): after a few steps at an allowed learning rate the activations
/// overflow float32, which is how a training that diverges is produced without a learning rate the options refuse.
/// Not registered, so no --method offers it.
/// </summary>
public sealed class Exploding : InterventionMethod
{
    public override string Name => "Exploding";
    public override string Summary => "scales activations by exp(1000·θ)";
    public override bool IsPositional => false;
    public override HeatmapStyle Heatmap { get; } = new("θ", Diverging: true, ["θ"], "exponent");

    protected override long[] Shape(InterventionLayout layout) => [layout.SiteKinds.Count, layout.LayerCount, 1];

    public override Tensor Apply(Tensor theta, Tensor h, Tensor beta)
    {
        using var scope = NewDisposeScope();
        return (h * (beta * theta * 1000).exp()).MoveToOuterDisposeScope();
    }

    public override Tensor Effect(Tensor parameters) => parameters.alias();
}
