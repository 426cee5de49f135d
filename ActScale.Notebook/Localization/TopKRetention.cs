using ActScale.Model;
using ActScale.Objective;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Localization;

/// <summary>
/// A run reduced to its k largest sites, on one split: both-β success at ±1, the effect (LD(β=+1) − LD(β=−1)) / 2,
/// i.e. how far ±1 move the logit difference each way, and the mean KL to the clean model at ±1.
/// </summary>
public sealed record RetentionPoint(int K, string Split, double BothBetaSuccess, double Effect, double Kl);

/// <summary>The retention curve, its number of sites, and per split the smallest k keeping 90% of the full run's effect.</summary>
public sealed record RetentionResult(string RunName, int SiteCount, IReadOnlyList<RetentionPoint> Points, IReadOnlyDictionary<string, int?> SmallestKAt90)
{
    public const double Kept = 0.9;
}

/// <summary>
/// Top-k retention: does the learned effect map pinpoint what matters? Sites are ranked by the magnitude of the run's
/// effect map — (site kind, layer, position) for positional methods, (site kind, layer) for the others, taking its
/// largest column — the k largest keep their parameters and every other parameter is reset to 0 (the identity).
/// </summary>
public static class TopKRetention
{
    public static RetentionResult Measure(LanguageModel model, InterventionRun run, PreparedTask task, IReadOnlyList<int>? ks, IReadOnlyList<string> splits)
    {
        run.EnsureTrainedOn(model);
        var ranked = RankedSites(run);
        var counts = (ks is { Count: > 0 } ? ks : DoublingCounts(ranked.Count)).Select(k => Math.Min(k, ranked.Count)).Append(ranked.Count).Distinct().Order().ToArray();
        if (counts[0] < 1) throw new ArgumentException($"Every k must be at least 1; got {ks!.Min()}.");
        var points = new List<RetentionPoint>();
        foreach (var k in counts)
        {
            using var kept = Keep(run, ranked.Take(k).ToArray(), k);
            var curve = BetaCurve.Measure(model, kept, task, [-1.0, 1.0], splits);
            foreach (var split in splits)
            {
                var at = curve.Where(p => p.Split == split).ToDictionary(p => p.Beta);
                points.Add(new RetentionPoint(k, split, at[1].BothBetaSuccess, (at[1].MeanLogitDifference - at[-1].MeanLogitDifference) / 2, (at[1].Kl + at[-1].Kl) / 2));
            }
        }
        var smallest = splits.ToDictionary(s => s, s =>
        {
            var curve = points.Where(p => p.Split == s).ToArray();
            double full = curve.Single(p => p.K == ranked.Count).Effect;
            return curve.FirstOrDefault(p => p.Effect >= RetentionResult.Kept * full)?.K;
        });
        return new RetentionResult(run.Name, ranked.Count, points, smallest);
    }

    /// <summary>1, 2, 4, ... below <paramref name="total"/>.</summary>
    public static IReadOnlyList<int> DoublingCounts(int total) =>
        Enumerable.Range(0, 31).Select(i => 1 << i).TakeWhile(k => k < total).ToArray();

    /// <summary>
    /// Site indices ([site kind, layer] or [site kind, layer, position]) by decreasing effect magnitude; positions before
    /// the run's first intervened one are not sites of it.
    /// </summary>
    public static IReadOnlyList<long[]> RankedSites(InterventionRun run)
    {
        var m = run.Magnitudes();
        var sites = new List<(long[] Index, float Magnitude)>();
        for (int s = 0; s < m.GetLength(0); s++)
            for (int l = 0; l < m.GetLength(1); l++)
            {
                if (run.Method.IsPositional)
                    for (int p = run.Layout.FirstPosition; p < m.GetLength(2); p++) sites.Add(([s, l, p], m[s, l, p]));
                else
                    sites.Add(([s, l], Enumerable.Range(0, m.GetLength(2)).Max(c => m[s, l, c])));
            }
        return sites.OrderByDescending(x => x.Magnitude).Select(x => x.Index).ToArray();
    }

    /// <summary>A copy of the run whose parameters outside <paramref name="sites"/> are 0.</summary>
    private static InterventionRun Keep(InterventionRun run, IReadOnlyList<long[]> sites, int k)
    {
        using var scope = NewDisposeScope();
        var mask = zeros_like(run.Parameters);
        foreach (var site in sites) mask[run.Method.ParameterIndex(site, run.Parameters.shape).Select(i => TensorIndex.Single(i)).ToArray()] = tensor(1f);
        var kept = (run.Parameters * mask).DetachFromDisposeScope();
        return new InterventionRun($"{run.Name} top {k}", run.Options, run.ModelIdentity, run.LayerCount, run.Width, run.PromptLength, run.TokenLabels, kept,
            run.Cancelled, run.StepsCompleted, run.TrainingTime, headCount: run.Layout.HeadCount);
    }
}
