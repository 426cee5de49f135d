using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>SteerVec, the additive baseline: h̃ = h + β·v, one vector v ∈ R^D per (site kind, layer, position).</summary>
public sealed class SteerVec : InterventionMethod
{
    public override string Name => "SteerVec";
    public override string Summary => "one vector per site, layer and position";
    public override bool IsPositional => true;
    public override HeatmapStyle Heatmap { get; } = new("‖v‖₂", Diverging: false);

    protected override long[] Shape(InterventionLayout layout) =>
        [layout.SiteKinds.Count, layout.LayerCount, layout.PromptLength!.Value, layout.Width];

    public override Tensor Apply(Tensor theta, Tensor h, Tensor beta) => h + (beta * theta.unsqueeze(0)).to_type(h.dtype);

    /// <summary>θ [K, position, width] adds to each setting's rows [K, rows, position, width].</summary>
    public override Tensor ApplyStacked(Tensor thetas, Tensor h, Tensor beta) => h + (beta * thetas.unsqueeze(1)).to_type(h.dtype);

    public override Tensor Effect(Tensor parameters) => parameters.norm(3);
}
