using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>
/// The result of training (or loading) one intervention: what was trained on which model, and its parameters
/// (detached, float32, on the model's device; the run owns them). <see cref="Cancelled"/> runs hold the best
/// parameters seen before cancellation.
/// </summary>
public sealed class InterventionRun : IDisposable
{
    public InterventionRun(string name, TrainingOptions options, string modelIdentity, int layerCount, int width, int? promptLength,
        string[] tokenLabels, Tensor parameters, bool cancelled = false, int stepsCompleted = 0, TimeSpan trainingTime = default,
        IReadOnlyList<TrainingProgress>? history = null, int headCount = 1)
    {
        var method = options.Method;
        Layout = new InterventionLayout(options.SiteKinds, layerCount, width, method.IsPositional ? promptLength : null, headCount,
            options.FirstPosition);
        Intervention.CheckShape(method, Layout, parameters);
        Name = name; Options = options; ModelIdentity = modelIdentity;
        TokenLabels = tokenLabels; Parameters = parameters.DetachFromDisposeScope(); Cancelled = cancelled; StepsCompleted = stepsCompleted;
        TrainingTime = trainingTime; History = history ?? [];
    }

    public string Name { get; }
    public InterventionMethod Method => Options.Method;
    public IReadOnlyList<SiteKind> SiteKinds => Options.SiteKinds;
    public TrainingOptions Options { get; }
    public InterventionLayout Layout { get; }
    /// <summary><see cref="Model.LanguageModel.Identity"/> of the model it was trained on.</summary>
    public string ModelIdentity { get; }
    public int LayerCount => Layout.LayerCount;
    public int Width => Layout.Width;
    /// <summary>Prompt length the positional methods are tied to; null for the others.</summary>
    public int? PromptLength => Layout.PromptLength;
    /// <summary>Token strings of a representative training prompt (heatmap columns).</summary>
    public string[] TokenLabels { get; }
    public Tensor Parameters { get; }
    public bool Cancelled { get; }
    public int StepsCompleted { get; }
    public TimeSpan TrainingTime { get; }
    public IReadOnlyList<TrainingProgress> History { get; }

    /// <summary>The parameters training moved (<see cref="InterventionMethod.TrainedParameterCount"/>): not those before the first position.</summary>
    public long ParameterCount => Method.TrainedParameterCount(Layout);

    /// <summary>‖θ‖₁ summed over all parameters.</summary>
    public double L1()
    {
        using var scope = NewDisposeScope();
        return Parameters.abs().sum().cpu().item<float>();
    }

    /// <summary>Refuses a model other than the one this run was trained on (both identities are named).</summary>
    public void EnsureTrainedOn(LanguageModel model)
    {
        if (ModelIdentity != model.Identity)
            throw new ArgumentException($"Run '{Name}' was trained on model '{ModelIdentity}' but this model is '{model.Identity}'.");
    }

    /// <summary>A live intervention with a copy of these parameters, on <paramref name="device"/> (caller disposes it).</summary>
    public Intervention CreateIntervention(Device device) => Intervention.FromValues(Method, Layout, Parameters, device);

    /// <summary>The method's signed effect map as [site, layer, column] (see <see cref="InterventionMethod.Effect"/>).</summary>
    public float[,,] Effect() => EffectArray(abs: false);

    /// <summary>The effect's magnitude per [site, layer, column], which counts non-trivial sites.</summary>
    public float[,,] Magnitudes() => EffectArray(abs: true);

    /// <summary>
    /// The <see cref="Effect"/> as a heatmap in the style the method declares: rows "L{layer} {site}" in model order
    /// (layer-major: L0 attn_out, L0 mlp_out, L1 attn_out, ...), or "L{layer} H{head}" where the effect has one row per head,
    /// columns the training prompt's tokens or the method's column names.
    /// </summary>
    public HeatmapView Heatmap()
    {
        var style = Method.Heatmap;
        var effect = Effect();
        int sites = effect.GetLength(0), slices = effect.GetLength(1), cols = effect.GetLength(2);
        int heads = slices / LayerCount; // the per-head methods' effect rows are (layer, head), layer-major
        var matrix = new double[slices * sites, cols];
        var rows = new string[slices * sites];
        for (int i = 0; i < slices; i++)
            for (int s = 0; s < sites; s++)
            {
                int r = i * sites + s, l = i / heads;
                rows[r] = heads > 1 ? $"L{l} H{i % heads}" : $"L{l} {Site.KindName(SiteKinds[s])}";
                for (int c = 0; c < cols; c++) matrix[r, c] = effect[s, i, c];
            }
        var names = style.ColumnNames ?? TokenLabels;
        var columns = Enumerable.Range(0, cols).Select(i => i < names.Length ? names[i] : $"pos {i}").ToArray();
        return new HeatmapView($"{Name}: {Method} {style.ValueName}", style.ValueName, matrix, rows, columns, 0.0,
            style.Diverging, style.ColumnNames is null, style.ColumnTitle, style.MarkAtOrAbove);
    }

    /// <summary>
    /// Number of sites whose magnitude exceeds <paramref name="threshold"/>: (site kind, layer, position) for positional
    /// methods; for the others (site kind, layer), counted once when any of its columns does.
    /// </summary>
    public int NonTrivialSites(double threshold)
    {
        var m = Magnitudes();
        int count = 0;
        for (int s = 0; s < m.GetLength(0); s++)
            for (int l = 0; l < m.GetLength(1); l++)
            {
                int above = Enumerable.Range(0, m.GetLength(2)).Count(c => m[s, l, c] > threshold);
                count += Method.IsPositional ? above : Math.Min(above, 1);
            }
        return count;
    }

    private float[,,] EffectArray(bool abs)
    {
        using var scope = NewDisposeScope();
        var effect = Method.Effect(Parameters);
        var m = abs ? effect.abs() : effect;
        var data = m.contiguous().cpu().data<float>().ToArray();
        var result = new float[m.shape[0], m.shape[1], m.shape[2]];
        Buffer.BlockCopy(data, 0, result, 0, data.Length * sizeof(float));
        return result;
    }

    public override string ToString() =>
        $"{Name}: {Method} on {ModelIdentity}, {ParameterCount} parameters, {StepsCompleted} steps{(Cancelled ? " (cancelled)" : "")}";

    public void Dispose() => Parameters.Dispose();
}
