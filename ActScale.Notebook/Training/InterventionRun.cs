using ActScale.Evaluation;
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
        IReadOnlyList<TrainingProgress>? history = null)
    {
        var expected = Intervention.ParameterShape(options.Method, options.Sites.Count, layerCount, width, promptLength);
        if (!parameters.shape.SequenceEqual(expected))
            throw new ArgumentException($"{options.Method} parameters must have shape [{string.Join(", ", expected)}]; got [{string.Join(", ", parameters.shape)}].");
        Name = name; Options = options; ModelIdentity = modelIdentity; LayerCount = layerCount; Width = width;
        PromptLength = Intervention.IsPositional(options.Method) ? promptLength : null;
        TokenLabels = tokenLabels; Parameters = parameters.DetachFromDisposeScope(); Cancelled = cancelled; StepsCompleted = stepsCompleted;
        TrainingTime = trainingTime; History = history ?? [];
    }

    public string Name { get; }
    public InterventionMethod Method => Options.Method;
    public IReadOnlyList<SiteKind> SiteKinds => Options.Sites;
    public TrainingOptions Options { get; }
    /// <summary><see cref="Model.LanguageModel.Identity"/> of the model it was trained on.</summary>
    public string ModelIdentity { get; }
    public int LayerCount { get; }
    public int Width { get; }
    /// <summary>Prompt length the positional methods are tied to; null for DynScalar.</summary>
    public int? PromptLength { get; }
    /// <summary>Token strings of a representative training prompt (heatmap columns).</summary>
    public string[] TokenLabels { get; }
    public Tensor Parameters { get; }
    public bool Cancelled { get; }
    public int StepsCompleted { get; }
    public TimeSpan TrainingTime { get; }
    public IReadOnlyList<TrainingProgress> History { get; }

    public long ParameterCount => Parameters.numel();

    /// <summary>‖θ‖₁ summed over all parameters.</summary>
    public double L1()
    {
        using var scope = NewDisposeScope();
        return Parameters.abs().sum().cpu().item<float>();
    }

    /// <summary>A live intervention with a copy of these parameters, on <paramref name="device"/> (caller disposes it).</summary>
    /// <summary>Refuses a model other than the one this run was trained on (both identities are named).</summary>
    public void EnsureTrainedOn(LanguageModel model)
    {
        if (ModelIdentity != model.Identity)
            throw new ArgumentException($"Run '{Name}' was trained on model '{ModelIdentity}' but this model is '{model.Identity}'.");
    }

    public Intervention CreateIntervention(Device device) =>
        Intervention.FromValues(Method, SiteKinds, LayerCount, Width, PromptLength, Parameters, device);

    /// <summary>Row label of (layer, site kind index): "L3 attn_out".</summary>
    public string RowLabel(int layer, int site) => $"L{layer} {Site.KindName(SiteKinds[site])}";

    /// <summary>
    /// Per-(site kind, layer, column) effect magnitude used to count non-trivial sites: |α| (ActivScalar), ‖v‖₂
    /// (SteerVec), and for DynScalar two columns ‖w‖₂ and |b|. Layout [site, layer, column].
    /// </summary>
    public float[,,] Magnitudes()
    {
        using var scope = NewDisposeScope();
        var m = Method switch
        {
            InterventionMethod.ActivScalar => Parameters.abs(),
            InterventionMethod.SteerVec => Parameters.norm(3),
            _ => stack([Parameters.narrow(2, 0, Width).norm(2), Parameters.select(2, Width).abs()], 2),
        };
        var data = m.cpu().data<float>().ToArray();
        int s = (int)m.shape[0], l = (int)m.shape[1], c = (int)m.shape[2];
        var result = new float[s, l, c];
        Buffer.BlockCopy(data, 0, result, 0, data.Length * sizeof(float));
        return result;
    }

    /// <summary>Number of (site kind, layer, position) sites — (site kind, layer) probes for DynScalar — whose magnitude exceeds <paramref name="threshold"/>.</summary>
    public int NonTrivialSites(double threshold)
    {
        var m = Magnitudes();
        int count = 0;
        for (int s = 0; s < m.GetLength(0); s++)
            for (int l = 0; l < m.GetLength(1); l++)
            {
                if (Method == InterventionMethod.DynScalar) { if (m[s, l, 0] > threshold || m[s, l, 1] > threshold) count++; }
                else for (int i = 0; i < m.GetLength(2); i++) if (m[s, l, i] > threshold) count++;
            }
        return count;
    }

    /// <summary>
    /// The parameters as a heatmap, rows "L{layer} {site}" in model order, columns the training prompt's tokens:
    /// α itself for ActivScalar (neutral 0; negative reverses), ‖v‖₂ for SteerVec (neutral 0), and for DynScalar the
    /// probe's ‖w‖₂ and b per (site, layer) (neutral 0).
    /// </summary>
    public HeatmapView Heatmap()
    {
        using var scope = NewDisposeScope();
        Tensor values;
        string[] columns;
        string valueName;
        switch (Method)
        {
            case InterventionMethod.ActivScalar:
                values = Parameters; columns = TokenLabels; valueName = "α"; break;
            case InterventionMethod.SteerVec:
                values = Parameters.norm(3); columns = TokenLabels; valueName = "‖v‖₂"; break;
            default:
                values = stack([Parameters.narrow(2, 0, Width).norm(2), Parameters.select(2, Width)], 2);
                columns = ["‖w‖₂", "b"]; valueName = "probe (‖w‖₂, b)"; break;
        }
        // [site, layer, column] → rows ordered layer-major: L0 attn_out, L0 mlp_out, L1 attn_out, ...
        var data = values.transpose(0, 1).contiguous().cpu().data<float>().ToArray();
        int sites = SiteKinds.Count, cols = (int)values.shape[2];
        var matrix = new double[LayerCount * sites, cols];
        var rows = new string[LayerCount * sites];
        for (int l = 0; l < LayerCount; l++)
            for (int s = 0; s < sites; s++)
            {
                int r = l * sites + s;
                rows[r] = RowLabel(l, s);
                for (int c = 0; c < cols; c++) matrix[r, c] = data[r * cols + c];
            }
        if (columns.Length != cols) columns = Enumerable.Range(0, cols).Select(i => i < columns.Length ? columns[i] : $"pos {i}").ToArray();
        return new HeatmapView($"{Name}: {Method} {valueName}", valueName, matrix, rows, columns, 0.0);
    }

    public override string ToString() =>
        $"{Name}: {Method} on {ModelIdentity}, {ParameterCount} parameters, {StepsCompleted} steps{(Cancelled ? " (cancelled)" : "")}";

    public void Dispose() => Parameters.Dispose();
}
