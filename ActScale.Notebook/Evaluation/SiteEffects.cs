using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Evaluation;

/// <summary>
/// What a run's intervention does on one split at β = +1, in units every method shares. <see cref="RelativeChange"/>
/// [site kind, layer, position]: the mean over prompts of ‖h̃ − h‖/‖h‖ (<see cref="InterventionMethod.RelativeChange"/>;
/// for DynScalar its mean |α|), positions past a prompt's end left out. <see cref="RemovalDelta"/> [site kind, layer]: the
/// mean |ΔLD| when only that site's intervention is removed, i.e. how much the steering depends on it.
/// </summary>
public sealed record SiteEffectMap(IReadOnlyList<SiteKind> SiteKinds, float[,,] RelativeChange, double[,] RemovalDelta, string[] TokenLabels)
{
    /// <summary>The relative change that counts a (site kind, layer, position) as used: 10% of the activation's norm.</summary>
    public const double UsedThreshold = 0.1;

    /// <summary>Number of (site kind, layer, position) whose mean relative change exceeds <paramref name="threshold"/>.</summary>
    public int SitesAbove(double threshold = UsedThreshold) => RelativeChange.Cast<float>().Count(v => v > threshold);

    /// <summary>The (site kind, layer) whose removal changes the logit difference most, largest first.</summary>
    public IEnumerable<(string Site, double Delta)> LargestRemovals(int count) =>
        Enumerable.Range(0, RemovalDelta.GetLength(0)).SelectMany(s => Enumerable.Range(0, RemovalDelta.GetLength(1))
                .Select(l => ($"L{l} {Site.KindName(SiteKinds[s])}", RemovalDelta[s, l])))
            .OrderByDescending(x => x.Item2).Take(count);

    /// <summary>The largest mean relative change, named by site and by its position's token, e.g. "L2 attn_out @13 ' to' 0.84".</summary>
    public string LargestChange()
    {
        var (s, l, p) = (0, 0, 0);
        for (int i = 0; i < RelativeChange.GetLength(0); i++)
            for (int j = 0; j < RelativeChange.GetLength(1); j++)
                for (int k = 0; k < RelativeChange.GetLength(2); k++)
                    if (RelativeChange[i, j, k] > RelativeChange[s, l, p]) (s, l, p) = (i, j, k);
        var token = p < TokenLabels.Length ? TokenLabels[p] : "";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"L{l} {Site.KindName(SiteKinds[s])} @{p} '{token}' {RelativeChange[s, l, p]:F2}");
    }

    /// <summary>The relative change as a heatmap (rows "L{layer} {site}", columns positions), cells at or above 1 marked.</summary>
    public HeatmapView Heatmap(string title)
    {
        int sites = RelativeChange.GetLength(0), layers = RelativeChange.GetLength(1), positions = RelativeChange.GetLength(2);
        var matrix = new double[layers * sites, positions];
        var rows = new string[layers * sites];
        for (int l = 0; l < layers; l++)
            for (int s = 0; s < sites; s++)
            {
                rows[l * sites + s] = $"L{l} {Site.KindName(SiteKinds[s])}";
                for (int p = 0; p < positions; p++) matrix[l * sites + s, p] = RelativeChange[s, l, p];
            }
        var columns = Enumerable.Range(0, positions).Select(p => p < TokenLabels.Length ? TokenLabels[p] : $"pos {p}").ToArray();
        return new HeatmapView($"{title}: relative change ‖h̃ − h‖/‖h‖ at β = +1 (● ≥ 1, the reversal point)", "‖h̃ − h‖/‖h‖", matrix, rows, columns,
            0.0, Diverging: false, ColumnsArePositions: true, "position (token)", MarkAtOrAbove: 1.0);
    }
}

/// <summary>Measures a run's <see cref="SiteEffectMap"/> on a prepared split.</summary>
public static class SiteEffects
{
    public static SiteEffectMap Measure(LanguageModel model, InterventionRun run, PreparedSplit split, int batchSize = 32)
    {
        run.EnsureTrainedOn(model);
        using var scope = NewDisposeScope();
        using var intervention = run.CreateIntervention(model.Device);
        int sites = run.SiteKinds.Count, layers = run.LayerCount, positions = split.Tokens.Max(t => t.Length);
        var sum = new double[sites, layers, positions];
        var count = new int[positions];
        foreach (var length in split.Tokens.Select(t => t.Length))
            for (int p = 0; p < length; p++) count[p]++;
        var full = LogitDifferences(model, split, Hooks(intervention, skip: null, sum), batchSize);
        var removal = new double[sites, layers];
        for (int s = 0; s < sites; s++)
            for (int l = 0; l < layers; l++)
            {
                var without = LogitDifferences(model, split, Hooks(intervention, skip: (s, l), null), batchSize);
                removal[s, l] = full.Zip(without, (a, b) => Math.Abs(a - b)).Average();
            }
        var mean = new float[sites, layers, positions];
        for (int s = 0; s < sites; s++)
            for (int l = 0; l < layers; l++)
                for (int p = 0; p < positions; p++) mean[s, l, p] = count[p] == 0 ? 0 : (float)(sum[s, l, p] / count[p]);
        var labels = split.Tokens.First(t => t.Length == positions).Select(model.Tokenizer.TokenText).ToArray();
        return new SiteEffectMap(run.SiteKinds, mean, removal, labels);
    }

    /// <summary>
    /// The intervention at β = +1 on every (site kind, layer) but <paramref name="skip"/>; when <paramref name="sum"/> is
    /// given each hook adds its per-position relative change (summed over prompts, padding left out) to it.
    /// </summary>
    private static Func<int[], HookSet> Hooks(Intervention intervention, (int Site, int Layer)? skip, double[,,]? sum) => lengths =>
    {
        var hooks = new HookSet();
        var beta = tensor(1f, device: intervention.Parameters.device);
        for (int s = 0; s < intervention.Layout.SiteKinds.Count; s++)
            for (int l = 0; l < intervention.Layout.LayerCount; l++)
            {
                if (skip == (s, l)) continue;
                int site = s, layer = l;
                hooks.Intervene(new Site(layer, intervention.Layout.SiteKinds[site]), h =>
                {
                    if (sum is not null) Accumulate(sum, site, layer, intervention.RelativeChange(site, layer, h), lengths);
                    return intervention.Apply(site, layer, h, beta);
                });
            }
        return hooks;
    };

    private static void Accumulate(double[,,] sum, int site, int layer, Tensor change, int[] lengths)
    {
        var values = change.cpu().data<float>().ToArray();
        int positions = (int)change.shape[1];
        for (int i = 0; i < lengths.Length; i++)
            for (int p = 0; p < lengths[i]; p++) sum[site, layer, p] += values[i * positions + p];
    }

    private static double[] LogitDifferences(LanguageModel model, PreparedSplit split, Func<int[], HookSet> hooksFor, int batchSize)
    {
        var result = new List<double>(split.Count);
        using var _ = no_grad();
        SplitBatches.ForEach(model.Transformer, split, (start, n) => hooksFor(split.Tokens.Skip(start).Take(n).Select(t => t.Length).ToArray()), batchSize,
            batch => result.AddRange(Losses.LogitDifference(batch.Logits, batch.Correct, batch.Wrong).cpu().data<float>().ToArray().Select(v => (double)v)));
        return result.ToArray();
    }
}
