using ActScale.Hooks;
using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// One pre-norm decoder block, the same for every family; its four named sites are applied here and nowhere
/// else. With a parallel residual (GPT-NeoX) attention and MLP both read the block input.
/// </summary>
public sealed class DecoderBlock(int layer, ILayer attentionNorm, ILayer attention, ILayer mlpNorm, ILayer mlp, bool parallelResidual)
    : IDisposable
{
    private readonly Site _residPre = new(layer, SiteKind.ResidPre);
    private readonly Site _attnOut = new(layer, SiteKind.AttnOut);
    private readonly Site _mlpOut = new(layer, SiteKind.MlpOut);
    private readonly Site _residPost = new(layer, SiteKind.ResidPost);

    public int Layer { get; } = layer;

    /// <summary>Takes ownership of <paramref name="residual"/> and returns the block output.</summary>
    public Tensor Forward(Tensor residual, HookSet? hooks)
    {
        residual = At(hooks, _residPre, residual);
        Tensor attnOut, mlpOut, output;
        using (var normed = attentionNorm.Forward(residual))
            attnOut = At(hooks, _attnOut, attention.Forward(normed));
        if (parallelResidual)
        {
            using (var normed = mlpNorm.Forward(residual))
                mlpOut = At(hooks, _mlpOut, mlp.Forward(normed));
            output = residual + attnOut + mlpOut;
            residual.Dispose();
        }
        else
        {
            var mid = residual + attnOut;
            residual.Dispose();
            using (var normed = mlpNorm.Forward(mid))
                mlpOut = At(hooks, _mlpOut, mlp.Forward(normed));
            output = mid + mlpOut;
            mid.Dispose();
        }
        attnOut.Dispose();
        mlpOut.Dispose();
        return At(hooks, _residPost, output);
    }

    private static Tensor At(HookSet? hooks, Site site, Tensor activation)
    {
        if (hooks is null) return activation;
        var result = hooks.Apply(site, activation);
        // Freeing our handle is safe even when autograd saved the tensor: the graph holds its own reference.
        if (!ReferenceEquals(result, activation)) activation.Dispose();
        return result;
    }

    public void Dispose()
    {
        attentionNorm.Dispose();
        attention.Dispose();
        mlpNorm.Dispose();
        mlp.Dispose();
    }
}
