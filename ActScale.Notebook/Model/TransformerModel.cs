using ActScale.Hooks;
using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// A frozen decoder-only transformer assembled by an <see cref="IArchitecture"/>: embedding, blocks with named
/// sites, final norm and unembedding. Weights never require gradients; gradients flow only into whatever
/// interventions a <see cref="HookSet"/> adds.
/// </summary>
public sealed class TransformerModel(
    ModelConfig config,
    Func<Tensor, Tensor?, Tensor> embed,
    IReadOnlyList<DecoderBlock> blocks,
    ILayer finalNorm,
    Tensor unembedding,
    Device device,
    ScalarType dtype,
    IReadOnlyList<IDisposable> ownedWeights) : IDisposable
{
    public ModelConfig Config { get; } = config;
    public Device Device { get; } = device;
    public ScalarType DType { get; } = dtype;

    /// <summary>
    /// Final-normed hidden states [batch, position, width] for token ids [batch, position]. With a
    /// <paramref name="cache"/> the ids continue the tokens it holds (<paramref name="real"/> [batch, position] bool
    /// marks left padding; null: all real) and their keys and values are added to it.
    /// </summary>
    public Tensor Hidden(Tensor ids, HookSet? hooks = null, KeyValueCache? cache = null, Tensor? real = null)
    {
        CheckIds(ids, cache?.Length ?? 0);
        if (real is not null && cache is null) throw new ArgumentException("A padding mask needs a KeyValueCache, which places each row's tokens.");
        hooks?.CheckLayers(blocks.Count);
        if (cache is not null)
        {
            using var allReal = real is null ? ones(ids.shape, ScalarType.Bool, ids.device) : real.to_type(ScalarType.Bool);
            cache.Begin(allReal);
        }
        var x = embed(ids, cache?.Positions);
        foreach (var block in blocks)
        {
            // Each residual is freed as soon as the next exists, so inference holds one at a time.
            var next = block.Forward(x, hooks, cache);
            x.Dispose();
            x = next;
        }
        using (x) return finalNorm.Forward(x);
    }

    /// <summary>
    /// Final-normed hidden states [batch, width] at each row's last real position <paramref name="lastIndex"/> [batch] of
    /// right-padded <paramref name="ids"/>, computing only what they depend on: the last block runs its queries, attention
    /// output and MLP at that position alone (see <see cref="DecoderBlock.ForwardLast"/>), and the final norm sees one
    /// position. Equal to <see cref="Hidden"/> at those positions for hooks whose output at a position depends only on
    /// their input there and that do not look at the rest (ActScale's interventions; not captures or measuring hooks,
    /// which need <see cref="Hidden"/>); when the hooks capture a site of the last block it runs the full forward instead.
    /// </summary>
    public Tensor LastHidden(Tensor ids, Tensor lastIndex, HookSet? hooks = null)
    {
        using var scope = NewDisposeScope();
        var lastBlock = blocks[^1];
        if (lastBlock.CapturesPastInput(hooks))
        {
            var hidden = Hidden(ids, hooks);
            return hidden.gather(1, lastIndex.view(-1, 1, 1).expand(-1, 1, hidden.shape[2])).squeeze(1).MoveToOuterDisposeScope();
        }
        CheckIds(ids, 0);
        hooks?.CheckLayers(blocks.Count);
        var x = embed(ids, null);
        for (int i = 0; i < blocks.Count - 1; i++) x = blocks[i].Forward(x, hooks);
        return finalNorm.Forward(lastBlock.ForwardLast(x, lastIndex, hooks)).squeeze(1).MoveToOuterDisposeScope();
    }

    private void CheckIds(Tensor ids, long cached)
    {
        if (ids.dim() != 2) throw new ArgumentException($"Token ids must be [batch, position]; got shape [{string.Join(", ", ids.shape)}].");
        long total = ids.shape[1] + cached;
        if (total > Config.ContextLength)
            throw new ArgumentException($"The sequence has {total} tokens but the model's context holds {Config.ContextLength}" +
                (Config.ContextLimit is null ? "" : $" ({Config.ContextLimit})") + ". Shorten the prompt or generate fewer tokens.");
    }

    /// <summary>Logits for the given hidden states; callers project only the positions they read.</summary>
    public Tensor Unembed(Tensor hidden) => hidden.matmul(unembedding.t());

    /// <summary>
    /// The adjoint of <see cref="Unembed"/>: weights over the vocabulary [rows, vocab] to Σⱼ wⱼ·Uⱼ [rows, width] in float32,
    /// e.g. a distribution's expected unembedding vector.
    /// </summary>
    public Tensor UnembedAdjoint(Tensor vocabularyWeights)
    {
        using var scope = NewDisposeScope();
        return vocabularyWeights.to_type(unembedding.dtype).matmul(unembedding).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The unembedding vectors [tokens, width] of <paramref name="tokens"/> (int64), in float32: a token's logit is h·Uₜ.</summary>
    public Tensor UnembeddingRows(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return unembedding.index_select(0, tokens).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [batch, position, vocab] for every position (a cache and padding mask as for <see cref="Hidden"/>).</summary>
    public Tensor Logits(Tensor ids, HookSet? hooks = null, KeyValueCache? cache = null, Tensor? real = null)
    {
        using var hidden = Hidden(ids, hooks, cache, real);
        return Unembed(hidden);
    }

    /// <summary>An empty cache for this model's layers.</summary>
    public KeyValueCache NewCache() => new(blocks.Count);

    public void Dispose()
    {
        foreach (var block in blocks) block.Dispose();
        finalNorm.Dispose();
        foreach (var weight in ownedWeights) weight.Dispose();
    }
}
