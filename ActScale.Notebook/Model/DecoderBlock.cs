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

    /// <summary>
    /// The block output [batch, 1, width] only at each row's <paramref name="lastIndex"/> [batch]: keys and values for every
    /// position, everything after them for the last position alone. The last block of a last-token loss needs no more.
    /// Hooks on the sites after the attention input see a [batch, position, width] activation that is zero except at the
    /// last position (see <see cref="HookSet.ApplyAtLast"/>).
    /// </summary>
    public Tensor ForwardLast(Tensor residual, Tensor lastIndex, HookSet? hooks)
    {
        using var scope = NewDisposeScope();
        long length = residual.shape[1];
        var x = At(hooks, _residPre, residual);
        var attnOut = AtLast(hooks, _attnOut, attention.ForwardLast(attentionNorm.Forward(x), lastIndex,
            hooks is null ? null : heads => hooks.ApplyAtLast(_attnHead, heads, lastIndex, length)), lastIndex, length);
        var xLast = x.gather(1, lastIndex.view(-1, 1, 1).expand(-1, 1, x.shape[2]));
        var mid = parallelResidual ? xLast : xLast + attnOut;
        var mlpOut = AtLast(hooks, _mlpOut, mlp.Forward(mlpNorm.Forward(mid)), lastIndex, length);
        var output = parallelResidual ? xLast + attnOut + mlpOut : mid + mlpOut;
        return AtLast(hooks, _residPost, output, lastIndex, length).MoveToOuterDisposeScope();
    }

    /// <summary>Whether a hook set captures a site whose full activation <see cref="ForwardLast"/> does not compute.</summary>
    internal bool CapturesPastInput(HookSet? hooks) =>
        hooks is not null && (hooks.Captures(_attnOut) || hooks.Captures(_mlpOut) || hooks.Captures(_residPost) || hooks.Captures(_attnHead));

    private static Tensor AtLast(HookSet? hooks, Site site, Tensor activation, Tensor lastIndex, long length) =>
        hooks is null ? activation : hooks.ApplyAtLast(site, activation, lastIndex, length);

    private static Tensor At(HookSet? hooks, Site site, Tensor activation) => hooks is null ? activation : hooks.Apply(site, activation);

    public void Dispose()
    {
        attentionNorm.Dispose();
        attention.Dispose();
        mlpNorm.Dispose();
        mlp.Dispose();
    }
}
