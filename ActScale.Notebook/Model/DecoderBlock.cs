using ActScale.Hooks;
using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// One pre-norm decoder block, the same for every family; its named sites are applied here (the per-head one
/// through the attention, before its output projection) and nowhere else. With a parallel residual (GPT-NeoX) attention and MLP both read the block input.
/// </summary>
public sealed class DecoderBlock(int layer, ILayer attentionNorm, CausalSelfAttention attention, ILayer mlpNorm, ILayer mlp, bool parallelResidual)
    : IDisposable
{
    private readonly Site _residPre = new(layer, SiteKind.ResidPre);
    private readonly Site _attnOut = new(layer, SiteKind.AttnOut);
    private readonly Site _mlpOut = new(layer, SiteKind.MlpOut);
    private readonly Site _residPost = new(layer, SiteKind.ResidPost);
    private readonly Site _attnHead = new(layer, SiteKind.AttnHead);

    public int Layer { get; } = layer;

    /// <summary>The block output for <paramref name="residual"/> (which stays the caller's); every intermediate is freed here. A cache supplies and keeps earlier tokens' keys and values.</summary>
    public Tensor Forward(Tensor residual, HookSet? hooks, KeyValueCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var x = At(hooks, _residPre, residual);
        var attnOut = At(hooks, _attnOut, attention.Forward(attentionNorm.Forward(x), cache, Layer, hooks is null ? null : heads => hooks.Apply(_attnHead, heads)));
        var mid = parallelResidual ? x : x + attnOut;
        var mlpOut = At(hooks, _mlpOut, mlp.Forward(mlpNorm.Forward(mid)));
        var output = parallelResidual ? x + attnOut + mlpOut : mid + mlpOut;
        return At(hooks, _residPost, output).MoveToOuterDisposeScope();
    }

    private static Tensor At(HookSet? hooks, Site site, Tensor activation) => hooks is null ? activation : hooks.Apply(site, activation);

    public void Dispose()
    {
        attentionNorm.Dispose();
        attention.Dispose();
        mlpNorm.Dispose();
        mlp.Dispose();
    }
}
