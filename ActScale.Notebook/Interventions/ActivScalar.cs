using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>ActivScalar [paper, Eq. 5]: h̃ = h·(1 + β·α), one scalar α per (site kind, layer, position).</summary>
public sealed class ActivScalar : InterventionMethod
{
    public override string Name => "ActivScalar";
    public override string Summary => "one scalar per site, layer and position";
    public override bool IsPositional => true;
    public override HeatmapStyle Heatmap { get; } = new("α", Diverging: true, MarkAtOrAbove: 1.0);

    protected override long[] Shape(InterventionLayout layout) => [layout.SiteKinds.Count, layout.LayerCount, layout.PromptLength!.Value];

    public override Tensor Apply(Tensor theta, Tensor h, Tensor beta) => h * (beta * theta.view(1, -1, 1) + 1).to_type(h.dtype);

    public override Tensor Effect(Tensor parameters) => parameters.alias();
}
