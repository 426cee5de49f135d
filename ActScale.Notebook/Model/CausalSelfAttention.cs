using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ActScale.Model;

/// <summary>
/// Causal multi-head attention over [batch, position, width]. Families differ only in how they project the
/// queries, keys and values (<see cref="IQkvProjection"/>) and whether they rotate them; the attention itself,
/// the grouping of key/value heads and the output projection are shared.
/// Batches are right-padded, so the causal mask alone keeps every real token from seeing padding.
/// </summary>
public sealed class CausalSelfAttention(IQkvProjection projection, Linear output, int headCount, int keyValueHeadCount, int headDim,
    IPositionRotation? rotation = null) : ILayer
{
    public Tensor Forward(Tensor x)
    {
        long batch = x.shape[0], length = x.shape[1];
        var (q, k, v) = projection.Project(x, headCount, keyValueHeadCount, headDim);
        using (q) using (k) using (v)
        {
            Tensor query = q, key = k;
            if (rotation is not null)
            {
                query = rotation.Rotate(q);
                key = rotation.Rotate(k);
            }
            Tensor value = v;
            if (keyValueHeadCount != headCount)
            {
                int repeat = headCount / keyValueHeadCount;
                key = RepeatHeads(key, repeat, rotation is not null);
                value = RepeatHeads(value, repeat, false);
            }
            using var attended = F.scaled_dot_product_attention(query, key, value, null, 0.0, true);
            if (!ReferenceEquals(query, q)) query.Dispose();
            if (!ReferenceEquals(key, k)) key.Dispose();
            if (!ReferenceEquals(value, v)) value.Dispose();
            using var merged = attended.transpose(1, 2).reshape(batch, length, headCount * headDim);
            return output.Forward(merged);
        }
    }

    private static Tensor RepeatHeads(Tensor t, int repeat, bool disposeInput)
    {
        var repeated = t.repeat_interleave(repeat, dim: 1);
        if (disposeInput) t.Dispose();
        return repeated;
    }

    public void Dispose() { projection.Dispose(); output.Dispose(); }
}

/// <summary>Maps [batch, position, width] to queries [b, heads, t, hd] and keys/values [b, kvHeads, t, hd].</summary>
public interface IQkvProjection : IDisposable
{
    (Tensor Query, Tensor Key, Tensor Value) Project(Tensor x, int headCount, int keyValueHeadCount, int headDim);
}

/// <summary>Rotary position embedding applied to [b, heads, t, hd].</summary>
public interface IPositionRotation
{
    Tensor Rotate(Tensor x);
}

/// <summary>GPT-2's fused projection: one matmul yields q | k | v, each [width].</summary>
public sealed class FusedQkvProjection(Linear fused) : IQkvProjection
{
    public (Tensor Query, Tensor Key, Tensor Value) Project(Tensor x, int headCount, int keyValueHeadCount, int headDim)
    {
        long batch = x.shape[0], length = x.shape[1];
        using var qkv = fused.Forward(x);
        var parts = qkv.view(batch, length, 3, headCount, headDim).permute(2, 0, 3, 1, 4);
        using (parts)
            return (parts[0], parts[1], parts[2]);
    }
    public void Dispose() => fused.Dispose();
}

/// <summary>Separate q, k and v projections (Llama, Qwen2, Mistral), each optionally biased; k and v may have fewer heads.</summary>
public sealed class SeparateQkvProjection(Linear query, Linear key, Linear value) : IQkvProjection
{
    public (Tensor Query, Tensor Key, Tensor Value) Project(Tensor x, int headCount, int keyValueHeadCount, int headDim)
    {
        long batch = x.shape[0], length = x.shape[1];
        Tensor Heads(Linear projection, int heads)
        {
            using var flat = projection.Forward(x);
            using var split = flat.view(batch, length, heads, headDim);
            return split.transpose(1, 2);
        }
        return (Heads(query, headCount), Heads(key, keyValueHeadCount), Heads(value, keyValueHeadCount));
    }
    public void Dispose() { query.Dispose(); key.Dispose(); value.Dispose(); }
}
