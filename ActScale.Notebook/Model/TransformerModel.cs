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
    Func<Tensor, Tensor> embed,
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

    /// <summary>Final-normed hidden states [batch, position, width] for token ids [batch, position].</summary>
    public Tensor Hidden(Tensor ids, HookSet? hooks = null)
    {
        if (ids.dim() != 2) throw new ArgumentException($"Token ids must be [batch, position]; got shape [{string.Join(", ", ids.shape)}].");
        if (ids.shape[1] > Config.ContextLength)
            throw new ArgumentException($"The prompt has {ids.shape[1]} tokens but the model's context holds {Config.ContextLength}" +
                (Config.ContextLimit is null ? "" : $" ({Config.ContextLimit})") + ". Shorten the prompt.");
        hooks?.CheckLayers(blocks.Count);
        var x = embed(ids);
        foreach (var block in blocks)
        {
            // Each residual is freed as soon as the next exists, so inference holds one at a time.
            var next = block.Forward(x, hooks);
            x.Dispose();
            x = next;
        }
        using (x) return finalNorm.Forward(x);
    }

    /// <summary>Logits for the given hidden states; callers project only the positions they read.</summary>
    public Tensor Unembed(Tensor hidden) => hidden.matmul(unembedding.t());

    /// <summary>Logits [batch, position, vocab] for every position.</summary>
    public Tensor Logits(Tensor ids, HookSet? hooks = null)
    {
        using var hidden = Hidden(ids, hooks);
        return Unembed(hidden);
    }

    public void Dispose()
    {
        foreach (var block in blocks) block.Dispose();
        finalNorm.Dispose();
        foreach (var weight in ownedWeights) weight.Dispose();
    }
}
