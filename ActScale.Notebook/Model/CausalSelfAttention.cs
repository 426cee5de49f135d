using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ActScale.Model;

/// <summary>
/// Causal multi-head attention over [batch, position, width]. Families differ only in how they project the
/// queries, keys and values (<see cref="IQkvProjection"/>) and whether they rotate them; the attention itself,
/// the grouping of key/value heads and the output projection are shared.
/// Without a cache batches are right-padded, so the causal mask alone keeps every real token from seeing padding;
/// with a <see cref="KeyValueCache"/> rows may be left-padded and the cache's mask and positions apply.
/// </summary>
public sealed class CausalSelfAttention(IQkvProjection projection, Linear output, int headCount, int keyValueHeadCount, int headDim,
    IPositionRotation? rotation = null) : ILayer
{
    public Tensor Forward(Tensor x) => Forward(x, null, 0);

    /// <summary>
    /// Attention for the new tokens <paramref name="x"/>; with a cache they also read the keys and values it holds for
    /// <paramref name="layer"/>. <paramref name="atHeads"/> sees and may replace the heads' outputs [batch, position, heads · hd]
    /// before the output projection.
    /// </summary>
    public Tensor Forward(Tensor x, KeyValueCache? cache, int layer, Func<Tensor, Tensor>? atHeads = null)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], length = x.shape[1];
        var (query, key, value) = Heads(x, cache, layer);
        var attended = cache is null
            ? F.scaled_dot_product_attention(query, key, value, null, 0.0, true)
            : F.scaled_dot_product_attention(query, key, value, cache.AttentionMask, 0.0, false);
        var heads = attended.transpose(1, 2).reshape(batch, length, headCount * headDim);
        return output.Forward(atHeads is null ? heads : atHeads(heads)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention output [batch, 1, width] only for each row's query at <paramref name="lastIndex"/> [batch] of right-padded
    /// <paramref name="x"/>, reading the keys and values of every position up to it: what a loss that reads only the last
    /// position needs from the last block. <paramref name="atHeads"/> sees [batch, 1, heads · hd].
    /// </summary>
    public Tensor ForwardLast(Tensor x, Tensor lastIndex, Func<Tensor, Tensor>? atHeads = null)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], length = x.shape[1];
        var (query, key, value) = Heads(x, null, 0);
        var row = lastIndex.view(-1, 1, 1, 1);
        var lastQuery = query.gather(2, row.expand(-1, headCount, 1, headDim));
        // Right padding lies after each row's last token: the mask keeps it out, as the causal mask does in the full forward.
        var visible = arange(length, device: x.device).view(1, 1, 1, -1).le(row);
        var attended = F.scaled_dot_product_attention(lastQuery, key, value, visible, 0.0, false);
        var heads = attended.transpose(1, 2).reshape(batch, 1, headCount * headDim);
        return output.Forward(atHeads is null ? heads : atHeads(heads)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Queries [b, heads, t, hd] and keys and values [b, heads, cached + t, hd] for <paramref name="x"/>: projected, rotated,
    /// extended by the cache's earlier tokens, and repeated per query head. They belong to the caller's dispose scope.
    /// </summary>
    private (Tensor Query, Tensor Key, Tensor Value) Heads(Tensor x, KeyValueCache? cache, int layer)
    {
        var (query, key, value) = projection.Project(x, headCount, keyValueHeadCount, headDim);
        if (rotation is not null) (query, key) = (rotation.Rotate(query, cache?.Positions), rotation.Rotate(key, cache?.Positions));
        if (cache is not null) (key, value) = cache.Extend(layer, key, value);
        if (keyValueHeadCount != headCount)
        {
            int repeat = headCount / keyValueHeadCount;   // grouped-query attention: each key/value head serves `repeat` query heads
            (key, value) = (key.repeat_interleave(repeat, dim: 1), value.repeat_interleave(repeat, dim: 1));
        }
        return (query, key, value);
    }

    public void Dispose() { projection.Dispose(); output.Dispose(); }
}

/// <summary>
/// Maps [batch, position, width] to queries [b, heads, t, hd] and keys/values [b, kvHeads, t, hd]; its tensors belong to
/// the caller's dispose scope (the attention's).
/// </summary>
public interface IQkvProjection : IDisposable
{
    (Tensor Query, Tensor Key, Tensor Value) Project(Tensor x, int headCount, int keyValueHeadCount, int headDim);
}

/// <summary>Rotary position embedding applied to [b, heads, t, hd].</summary>
public interface IPositionRotation
{
    /// <summary>Rotates by per-row <paramref name="positions"/> [b, t], or by 0..t−1 when null.</summary>
    Tensor Rotate(Tensor x, Tensor? positions);
}

/// <summary>GPT-2's fused projection: one matmul yields q | k | v, each [width].</summary>
public sealed class FusedQkvProjection(Linear fused) : IQkvProjection
{
    public (Tensor Query, Tensor Key, Tensor Value) Project(Tensor x, int headCount, int keyValueHeadCount, int headDim)
    {
        var parts = fused.Forward(x).view(x.shape[0], x.shape[1], 3, headCount, headDim).permute(2, 0, 3, 1, 4);
        return (parts[0], parts[1], parts[2]);
    }
    public void Dispose() => fused.Dispose();
}

/// <summary>Separate q, k and v projections (Llama, Qwen2, Mistral), each optionally biased; k and v may have fewer heads.</summary>
public sealed class SeparateQkvProjection(Linear query, Linear key, Linear value) : IQkvProjection
{
    public (Tensor Query, Tensor Key, Tensor Value) Project(Tensor x, int headCount, int keyValueHeadCount, int headDim)
    {
        Tensor Heads(Linear projection, int heads) => projection.Forward(x).view(x.shape[0], x.shape[1], heads, headDim).transpose(1, 2);
        return (Heads(query, headCount), Heads(key, keyValueHeadCount), Heads(value, keyValueHeadCount));
    }
    public void Dispose() { query.Dispose(); key.Dispose(); value.Dispose(); }
}
