using ActScale.Hooks;
using ActScale.Interventions;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>
/// The parameters of K settings of one method and layout, trained together: one learnable tensor [K, ...the method's
/// shape], starting at 0 (the identity). Its hooks read the batch as K equal blocks of rows, block k belonging to
/// setting k, so one forward pass runs every setting on its own rows with its own parameters. Positions before the
/// layout's first position stay clean, as in <see cref="Intervention"/>.
/// </summary>
internal sealed class SettingBatch : IDisposable
{
    public SettingBatch(InterventionMethod method, InterventionLayout layout, int count, Device device)
    {
        layout.Check();
        Method = method;
        Layout = layout;
        var data = zeros([count, .. method.ParameterShape(layout)], ScalarType.Float32, device).DetachFromDisposeScope();
        Parameters = new Parameter(data, requires_grad: true);
        Parameters.DetachFromDisposeScope();
    }

    public InterventionMethod Method { get; }
    public InterventionLayout Layout { get; }
    public int Count => (int)Parameters.shape[0];

    /// <summary>[K, ...]: row k is setting k's parameter tensor.</summary>
    public Parameter Parameters { get; }

    /// <summary>
    /// Adds one hook per (site kind, layer); <paramref name="betaRows"/> [K·rows, 1, 1] is each row's β, rows grouped by
    /// setting (the caller owns it).
    /// </summary>
    public IDisposable Attach(HookSet hooks, Tensor betaRows)
    {
        var beta = betaRows.view(Count, -1, 1, 1);
        return new Intervention.Handles(Intervention.AttachEach(hooks, Layout, (site, layer, h) => Apply(site, layer, h, beta)), beta);
    }

    private Tensor Apply(int site, int layer, Tensor h, Tensor beta)
    {
        using var scope = NewDisposeScope();
        var perSetting = h.reshape(Count, -1, h.shape[1], h.shape[2]);
        var thetas = Parameters.select(1, site).select(1, layer);
        return Layout.KeepLeadingPositions(h, Method.ApplyStacked(thetas, perSetting, beta).reshape(h.shape)).MoveToOuterDisposeScope();
    }

    public void Dispose() => Parameters.Dispose();
}
