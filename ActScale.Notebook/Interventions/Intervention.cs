using ActScale.Hooks;
using ActScale.Tasks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>
/// A live intervention: one method's learnable parameter tensor (float32, on the model's device, starting at 0, the
/// identity) over a <see cref="InterventionLayout"/>. <see cref="Attach"/> adds its hooks to a <see cref="HookSet"/> at a
/// given strength β; disposing the handle removes them.
/// </summary>
public sealed class Intervention : IDisposable
{
    private Intervention(InterventionMethod method, InterventionLayout layout, Parameter parameters)
    {
        Method = method;
        Layout = layout;
        Parameters = parameters;
    }

    public InterventionMethod Method { get; }
    public InterventionLayout Layout { get; }

    /// <summary>The single learnable tensor.</summary>
    public Parameter Parameters { get; }

    /// <summary>The parameters training moves (<see cref="InterventionMethod.TrainedParameterCount"/>).</summary>
    public long ParameterCount => Method.TrainedParameterCount(Layout);

    /// <summary>A new intervention at the identity (all parameters 0), on <paramref name="device"/>.</summary>
    public static Intervention Create(InterventionMethod method, InterventionLayout layout, Device device)
    {
        layout.Check();
        var data = zeros(method.ParameterShape(layout), ScalarType.Float32, device).DetachFromDisposeScope();
        return new Intervention(method, Positional(method, layout), Owned(data));
    }

    /// <summary>Wraps existing values (copied) as an intervention, e.g. loaded or best-so-far parameters.</summary>
    public static Intervention FromValues(InterventionMethod method, InterventionLayout layout, Tensor values, Device device)
    {
        layout.Check();
        CheckShape(method, layout, values);
        Tensor data;
        using (var scope = NewDisposeScope())
            data = values.detach().to(ScalarType.Float32, device, copy: true).DetachFromDisposeScope();
        return new Intervention(method, Positional(method, layout), Owned(data));
    }

    /// <summary>Throws unless <paramref name="values"/> has the shape <paramref name="method"/> needs for <paramref name="layout"/>.</summary>
    public static void CheckShape(InterventionMethod method, InterventionLayout layout, Tensor values)
    {
        var shape = method.ParameterShape(layout);
        if (!values.shape.SequenceEqual(shape))
            throw new ArgumentException($"{method} parameters must have shape [{string.Join(", ", shape)}]; got [{string.Join(", ", values.shape)}].");
    }

    /// <summary>The layout as the method uses it: only positional methods keep a prompt length.</summary>
    private static InterventionLayout Positional(InterventionMethod method, InterventionLayout layout) =>
        method.IsPositional ? layout : layout with { PromptLength = null };

    /// <summary>The intervention owns its parameter: no caller's dispose scope may free it.</summary>
    private static Parameter Owned(Tensor data)
    {
        var parameter = new Parameter(data, requires_grad: true);
        parameter.DetachFromDisposeScope();
        return parameter;
    }

    /// <summary>Adds one hook per (site kind, layer) at strength <paramref name="beta"/> (+1 towards the correct answer, −1 towards the wrong one, 0 the clean model).</summary>
    public IDisposable Attach(HookSet hooks, double beta = 1.0)
    {
        var strength = tensor((float)beta, device: Parameters.device).DetachFromDisposeScope();
        return new Handles(AttachAll(hooks, strength), strength);
    }

    /// <summary>Adds one hook per (site kind, layer) with one β per batch row, <paramref name="betaRows"/> [batch, 1, 1] (the caller owns it).</summary>
    public IDisposable Attach(HookSet hooks, Tensor betaRows) => new Handles(AttachAll(hooks, betaRows), null);

    /// <summary>
    /// <see cref="Attach(HookSet, Tensor)"/> for the passes over generated tokens of a KV-cached generation, whose activations
    /// hold only the new positions: all lie past the prompt, so no leading position is kept. Only for methods that are not
    /// positional (the positional ones act on the prompt's positions alone).
    /// </summary>
    public IDisposable AttachToGenerated(HookSet hooks, Tensor betaRows)
    {
        if (Method.IsPositional)
            throw new InvalidOperationException($"{Method} acts on the prompt's positions only; attach it to the prompt's pass, not to generated tokens.");
        return new Handles(AttachEach(hooks, Layout, (site, layer, h) => Method.Apply(Parameters[site, layer], h, betaRows)), null);
    }

    private List<IDisposable> AttachAll(HookSet hooks, Tensor beta) => AttachEach(hooks, Layout, (site, layer, h) => Apply(site, layer, h, beta));

    /// <summary>One hook per (site kind index, layer) of <paramref name="layout"/> that replaces h by <paramref name="apply"/>(site, layer, h).</summary>
    internal static List<IDisposable> AttachEach(HookSet hooks, InterventionLayout layout, Func<int, int, Tensor, Tensor> apply)
    {
        var handles = new List<IDisposable>();
        for (int s = 0; s < layout.SiteKinds.Count; s++)
            for (int l = 0; l < layout.LayerCount; l++)
            {
                int site = s, layer = l;
                handles.Add(hooks.Intervene(new Site(layer, layout.SiteKinds[site]), h => apply(site, layer, h)));
            }
        return handles;
    }

    /// <summary>The intervened activation of site kind index <paramref name="site"/> on <paramref name="layer"/>; h is [batch, position, width].</summary>
    public Tensor Apply(int site, int layer, Tensor h, Tensor beta)
    {
        // The cheap comparison first: this runs for every site of every forward pass.
        if (Method.IsPositional && h.shape[1] != Layout.PromptLength)
            PromptLayoutRule.Check(Method.Name, Layout.PromptLength, [(int)h.shape[1]], "this prompt");
        using var scope = NewDisposeScope();
        return Layout.KeepLeadingPositions(h, Method.Apply(Parameters[site, layer], h, beta)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="InterventionMethod.RelativeChange"/> of site kind index <paramref name="site"/> on <paramref name="layer"/>,
    /// [batch, position], exactly 0 before <see cref="InterventionLayout.FirstPosition"/> where nothing is changed.
    /// </summary>
    public Tensor RelativeChange(int site, int layer, Tensor h)
    {
        using var scope = NewDisposeScope();
        var change = Method.RelativeChange(Parameters[site, layer].detach(), h);
        return where(Layout.IntervenedPositions(h.shape[1], h.device), change, zeros_like(change)).MoveToOuterDisposeScope();
    }

    public void Dispose() => Parameters.Dispose();

    /// <summary>Removes the hooks (and frees <paramref name="owned"/>, a β the attach made) when disposed.</summary>
    internal sealed class Handles(List<IDisposable> handles, Tensor? owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (var h in handles) h.Dispose();
            handles.Clear();
            owned?.Dispose();
        }
    }
}
