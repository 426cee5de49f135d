using ActScale.Hooks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>The three intervention families of the paper.</summary>
public enum InterventionMethod
{
    /// <summary>h̃ = h·(1 + β·α), one scalar α per (site, layer, position) [paper, Eq. 5].</summary>
    ActivScalar,
    /// <summary>h̃ = h + β·v, one vector v ∈ R^D per (site, layer, position) [baseline; form ours].</summary>
    SteerVec,
    /// <summary>h̃ = h·(1 + β·α) with α = w·h + b, one probe (w, b) per (site, layer), shared over positions [form ours].</summary>
    DynScalar,
}

/// <summary>
/// Learnable activation interventions over a set of site kinds on every layer. The parameters are one tensor:
/// [site, layer, position] (ActivScalar), [site, layer, position, width] (SteerVec) or [site, layer, width + 1]
/// (DynScalar: w then b). All start at 0, the identity. <see cref="Beta"/> is the runtime strength/direction knob.
/// <see cref="Attach"/> adds the hooks to a <see cref="HookSet"/>; disposing the handle removes them.
/// </summary>
public sealed class Intervention : IDisposable
{
    private Intervention(InterventionMethod method, IReadOnlyList<SiteKind> siteKinds, int layerCount, int width, int? promptLength, Parameter parameters)
    {
        Method = method;
        SiteKinds = siteKinds;
        LayerCount = layerCount;
        Width = width;
        PromptLength = promptLength;
        Parameters = parameters;
    }

    public InterventionMethod Method { get; }
    public IReadOnlyList<SiteKind> SiteKinds { get; }
    public int LayerCount { get; }
    public int Width { get; }

    /// <summary>Token count the positional methods were built for; null for DynScalar.</summary>
    public int? PromptLength { get; }

    /// <summary>The single learnable tensor (float32, on the model's device).</summary>
    public Parameter Parameters { get; }

    /// <summary>Strength and direction: +1 steers towards the correct answer, −1 towards the wrong one, 0 is the clean model.</summary>
    public double Beta { get; set; } = 1.0;

    /// <summary>Per-row β, [batch, 1, 1]; when set it overrides <see cref="Beta"/> (training runs β = +1 and −1 in one batch).</summary>
    internal Tensor? BetaRows { get; set; }

    public long ParameterCount => Parameters.numel();

    public static bool IsPositional(InterventionMethod method) => method != InterventionMethod.DynScalar;

    /// <summary>The shape the parameter tensor has for these settings.</summary>
    public static long[] ParameterShape(InterventionMethod method, int siteKinds, int layers, int width, int? promptLength)
    {
        if (IsPositional(method) && promptLength is not > 0)
            throw new ArgumentException($"{method} needs the prompt length (its parameters are per position).");
        return method switch
        {
            InterventionMethod.ActivScalar => [siteKinds, layers, promptLength!.Value],
            InterventionMethod.SteerVec => [siteKinds, layers, promptLength!.Value, width],
            InterventionMethod.DynScalar => [siteKinds, layers, width + 1],
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
    }

    /// <summary>A new intervention at the identity (all parameters 0), on <paramref name="device"/>.</summary>
    public static Intervention Create(InterventionMethod method, IReadOnlyList<SiteKind> siteKinds, int layerCount, int width, int? promptLength, Device device)
    {
        if (siteKinds.Count == 0) throw new ArgumentException("Choose at least one site kind (e.g. attn_out, mlp_out).");
        if (siteKinds.Distinct().Count() != siteKinds.Count) throw new ArgumentException("Each site kind may be listed once.");
        var shape = ParameterShape(method, siteKinds.Count, layerCount, width, promptLength);
        var data = zeros(shape, ScalarType.Float32, device).DetachFromDisposeScope();
        return new Intervention(method, siteKinds.ToArray(), layerCount, width, IsPositional(method) ? promptLength : null, Owned(data));
    }

    /// <summary>Wraps existing values (copied) as an intervention, e.g. loaded or best-so-far parameters.</summary>
    public static Intervention FromValues(InterventionMethod method, IReadOnlyList<SiteKind> siteKinds, int layerCount, int width, int? promptLength, Tensor values, Device device)
    {
        var shape = ParameterShape(method, siteKinds.Count, layerCount, width, promptLength);
        if (!values.shape.SequenceEqual(shape))
            throw new ArgumentException($"{method} parameters must have shape [{string.Join(", ", shape)}]; got [{string.Join(", ", values.shape)}].");
        Tensor data;
        using (var scope = NewDisposeScope())
            data = values.detach().to(ScalarType.Float32, device, copy: true).DetachFromDisposeScope();
        return new Intervention(method, siteKinds.ToArray(), layerCount, width, IsPositional(method) ? promptLength : null, Owned(data));
    }

    /// <summary>The intervention owns its parameter: no caller's dispose scope may free it.</summary>
    private static Parameter Owned(Tensor data)
    {
        var parameter = new Parameter(data, requires_grad: true);
        parameter.DetachFromDisposeScope();
        return parameter;
    }

    /// <summary>Adds one hook per (site kind, layer) to <paramref name="hooks"/>.</summary>
    public IDisposable Attach(HookSet hooks)
    {
        var handles = new List<IDisposable>();
        for (int s = 0; s < SiteKinds.Count; s++)
            for (int l = 0; l < LayerCount; l++)
            {
                int site = s, layer = l;
                handles.Add(hooks.Intervene(new Site(layer, SiteKinds[site]), h => Apply(site, layer, h)));
            }
        return new Handles(handles);
    }

    /// <summary>The intervened activation for site kind index <paramref name="s"/>, layer <paramref name="l"/>; h is [batch, position, width].</summary>
    internal Tensor Apply(int s, int l, Tensor h)
    {
        using var scope = NewDisposeScope();
        var theta = Parameters[s, l];
        Tensor result;
        switch (Method)
        {
            case InterventionMethod.ActivScalar:
            {
                CheckLength(h);
                var scaled = Scaled(theta.view(1, -1, 1));
                result = h * (scaled + 1).to_type(h.dtype);
                break;
            }
            case InterventionMethod.SteerVec:
            {
                CheckLength(h);
                result = h + Scaled(theta.unsqueeze(0)).to_type(h.dtype);
                break;
            }
            default:
            {
                var w = theta.narrow(0, 0, Width);
                var b = theta[Width];
                var alpha = h.to_type(ScalarType.Float32).matmul(w) + b; // [batch, position]
                result = h * (Scaled(alpha.unsqueeze(-1)) + 1).to_type(h.dtype);
                break;
            }
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>α for every position of the given activations under DynScalar: [batch, position].</summary>
    internal Tensor DynamicAlpha(int s, int l, Tensor h)
    {
        var theta = Parameters[s, l];
        return h.to_type(ScalarType.Float32).matmul(theta.narrow(0, 0, Width)) + theta[Width];
    }

    private Tensor Scaled(Tensor x) => BetaRows is { } rows ? rows * x : x * Beta;

    private void CheckLength(Tensor h)
    {
        if (h.shape[1] != PromptLength)
            throw new ArgumentException(
                $"This {Method} intervention was trained on prompts of {PromptLength} tokens, but the prompt has {h.shape[1]} tokens. " +
                "Positional methods apply only to prompts of the training length; use DynScalar for other lengths.");
    }

    public void Dispose()
    {
        Parameters.Dispose();
    }

    private sealed class Handles(List<IDisposable> handles) : IDisposable
    {
        public void Dispose()
        {
            foreach (var h in handles) h.Dispose();
            handles.Clear();
        }
    }
}
