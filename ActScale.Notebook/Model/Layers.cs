using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ActScale.Model;

/// <summary>A frozen piece of a transformer: a pure function of its input and its weights.</summary>
public interface ILayer : IDisposable
{
    Tensor Forward(Tensor x);
}

/// <summary>y = x Wᵀ + b with W stored [out, in], the layout the matmul kernels read fastest.</summary>
public sealed class Linear(Tensor weight, Tensor? bias) : ILayer
{
    public Tensor Weight { get; } = weight;
    public Tensor? Bias { get; } = bias;
    public Tensor Forward(Tensor x) => F.linear(x, Weight, Bias);
    public void Dispose() { Weight.Dispose(); Bias?.Dispose(); }
}

public sealed class LayerNorm(Tensor weight, Tensor bias, double epsilon) : ILayer
{
    private readonly long[] _shape = [weight.shape[0]];
    public Tensor Forward(Tensor x) => F.layer_norm(x, _shape, weight, bias, epsilon);
    public void Dispose() { weight.Dispose(); bias.Dispose(); }
}

/// <summary>
/// Root-mean-square norm (Llama family): x / sqrt(mean(x²) + ε) · weight, with no centring and no bias.
/// Half-precision inputs are normed in float32 and cast back before the weight, as Hugging Face does.
/// </summary>
public sealed class RmsNorm(Tensor weight, double epsilon) : ILayer
{
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        bool upcast = x.dtype != ScalarType.Float32 && x.dtype != ScalarType.Float64;
        var wide = upcast ? x.to_type(ScalarType.Float32) : x;
        var normed = wide * (wide.square().mean([-1L], keepdim: true) + epsilon).rsqrt();
        return ((upcast ? normed.to_type(x.dtype) : normed) * weight).MoveToOuterDisposeScope();
    }
    public void Dispose() => weight.Dispose();
}

/// <summary>Gated MLP (SwiGLU in Llama): down(act(gate(x)) · up(x)).</summary>
public sealed class GatedFeedForward(Linear gate, Linear up, Linear down, Func<Tensor, Tensor> activation) : ILayer
{
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down.Forward(activation(gate.Forward(x)) * up.Forward(x)).MoveToOuterDisposeScope();
    }
    public void Dispose() { gate.Dispose(); up.Dispose(); down.Dispose(); }
}

/// <summary>Two-layer MLP with an elementwise activation in between (GPT-2, GPT-NeoX).</summary>
public sealed class FeedForward(Linear up, Linear down, Func<Tensor, Tensor> activation) : ILayer
{
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down.Forward(activation(up.Forward(x))).MoveToOuterDisposeScope();
    }
    public void Dispose() { up.Dispose(); down.Dispose(); }
}

public static class Embeddings
{
    /// <summary>Looks token ids [batch, position] up in a [vocab, width] table: [batch, position, width].</summary>
    public static Tensor Lookup(Tensor table, Tensor ids)
    {
        using var scope = NewDisposeScope();
        return table.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], table.shape[1]).MoveToOuterDisposeScope();
    }
}

public static class Activations
{
    public static Func<Tensor, Tensor> Named(string name) => name switch
    {
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => x => F.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "gelu" => x => F.gelu(x),
        "relu" => x => F.relu(x),
        "silu" or "swish" => x => F.silu(x),
        _ => throw new NotSupportedException($"Activation '{name}' is not supported; known: gelu_new, gelu_pytorch_tanh, gelu, relu, silu."),
    };
}
