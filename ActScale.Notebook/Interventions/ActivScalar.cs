using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>
/// ActivScalar [paper, Eq. 5]: h̃ = h·(1 + β·α), one scalar α per (site kind, layer, position), and on a per-head site
/// (<see cref="InterventionLayout.HeadCount"/> &gt; 1) one per (layer, head, position), each scaling its head's slice of h.
/// </summary>
public sealed class ActivScalar : InterventionMethod
{
    public override string Name => "ActivScalar";
    public override string Summary => "one scalar per site (or head), layer and position";
    public override bool IsPositional => true;
    public override HeatmapStyle Heatmap { get; } = new("α", Diverging: true, MarkAtOrAbove: 1.0);

    /// <summary>[site, layer, position], or [site, layer, position, head] for a per-head site (whole-vector runs keep their saved shape).</summary>
    protected override long[] Shape(InterventionLayout layout) => layout.HeadCount == 1
        ? [layout.SiteKinds.Count, layout.LayerCount, layout.PromptLength!.Value]
        : [layout.SiteKinds.Count, layout.LayerCount, layout.PromptLength!.Value, layout.HeadCount];

    public override Tensor Apply(Tensor theta, Tensor h, Tensor beta)
    {
        if (theta.dim() == 1) return h * (beta * theta.view(1, -1, 1) + 1).to_type(h.dtype);
        using var scope = NewDisposeScope();
        long heads = theta.shape[1];
        var beta4 = beta.dim() == 0 ? beta : beta.unsqueeze(-1); // a [batch, 1, 1] β gains the head-width axis
        var perHead = h.reshape(h.shape[0], h.shape[1], heads, -1) * (beta4 * theta.unsqueeze(0).unsqueeze(-1) + 1).to_type(h.dtype);
        return perHead.reshape(h.shape).MoveToOuterDisposeScope();
    }

    /// <summary>θ [K, position] or [K, position, head] scales each setting's rows [K, rows, position, width] as <see cref="Apply"/> does.</summary>
    public override Tensor ApplyStacked(Tensor thetas, Tensor h, Tensor beta)
    {
        long k = thetas.shape[0], positions = thetas.shape[1];
        if (thetas.dim() == 2) return h * (beta * thetas.reshape(k, 1, positions, 1) + 1).to_type(h.dtype);
        using var scope = NewDisposeScope();
        long heads = thetas.shape[2];
        var perHead = h.reshape(k, h.shape[1], positions, heads, -1) * (beta.unsqueeze(-1) * thetas.reshape(k, 1, positions, heads, 1) + 1).to_type(h.dtype);
        return perHead.reshape(h.shape).MoveToOuterDisposeScope();
    }

    /// <summary>[site, layer, position], or for a per-head site [site, layer · heads, position] (layer-major, so row l·H + h is "L{l} H{h}").</summary>
    public override Tensor Effect(Tensor parameters) => parameters.dim() == 3
        ? parameters.alias()
        : parameters.permute(0, 1, 3, 2).reshape(parameters.shape[0], parameters.shape[1] * parameters.shape[3], parameters.shape[2]);

    /// <summary>Undoes <see cref="Effect"/>'s (layer, head) rows: effect [site, layer · H + head, position] is parameter [site, layer, position, head].</summary>
    public override long[] ParameterIndex(long[] effectIndex, long[] parameterShape)
    {
        if (parameterShape.Length == 3) return effectIndex;
        long heads = parameterShape[3], row = effectIndex[1];
        return [effectIndex[0], row / heads, effectIndex[2], row % heads];
    }
}
