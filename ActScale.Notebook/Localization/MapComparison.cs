using ActScale.Training;

namespace ActScale.Localization;

/// <summary>How well two maps over the same (site kind, layer, position) grid agree on which sites matter.</summary>
public sealed record MapAgreement(string RunName, string PatchName, double RankCorrelation, IReadOnlyList<(int K, int Shared)> TopKOverlap, int Sites);

/// <summary>
/// Compares a run's learned effect map with a patching map by magnitude: Spearman's rank correlation over every site the
/// run intervenes on (ties get their mean rank) and, for a few k, how many of the k largest sites the two maps share.
/// </summary>
public static class MapComparison
{
    public static MapAgreement Compare(InterventionRun run, PatchingMap patch, IReadOnlyList<int>? ks = null)
    {
        if (!run.Method.IsPositional)
            throw new ArgumentException($"Run '{run.Name}' is {run.Method}, whose effect map has no positions; compare a patching map with an ActivScalar or SteerVec run.");
        var effect = run.Magnitudes();
        var recovered = patch.Recovered;
        if (!run.SiteKinds.SequenceEqual(patch.SiteKinds) || effect.GetLength(1) != recovered.GetLength(1) || effect.GetLength(2) != recovered.GetLength(2))
            throw new ArgumentException($"Run '{run.Name}' covers {string.Join(", ", run.SiteKinds.Select(Hooks.Site.KindName))} × {effect.GetLength(1)} layers × {effect.GetLength(2)} positions " +
                                        $"but patching map '{patch.Name}' covers {string.Join(", ", patch.SiteKinds.Select(Hooks.Site.KindName))} × {recovered.GetLength(1)} × {recovered.GetLength(2)}; " +
                                        "patch the same site kinds on prompts of the run's length.");
        // Positions the run never intervenes on would tie at 0 in its map and count against any patching map.
        var cells = (from s in Enumerable.Range(0, effect.GetLength(0))
                     from l in Enumerable.Range(0, effect.GetLength(1))
                     from p in Enumerable.Range(run.Layout.FirstPosition, effect.GetLength(2) - run.Layout.FirstPosition)
                     select (s, l, p)).ToArray();
        var a = cells.Select(c => (double)Math.Abs(effect[c.s, c.l, c.p])).ToArray();
        var b = cells.Select(c => Math.Abs(recovered[c.s, c.l, c.p])).ToArray();
        var overlap = (ks ?? [5, 10, 20]).Where(k => k <= a.Length).Select(k => (k, Top(a, k).Intersect(Top(b, k)).Count())).ToArray();
        return new MapAgreement(run.Name, patch.Name, Spearman(a, b), overlap, a.Length);
    }

    private static IEnumerable<int> Top(double[] values, int k) => Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).Take(k);

    public static double Spearman(double[] a, double[] b)
    {
        double[] ra = Ranks(a), rb = Ranks(b);
        double ma = ra.Average(), mb = rb.Average();
        double cov = 0, va = 0, vb = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            cov += (ra[i] - ma) * (rb[i] - mb);
            va += (ra[i] - ma) * (ra[i] - ma);
            vb += (rb[i] - mb) * (rb[i] - mb);
        }
        return va == 0 || vb == 0 ? 0 : cov / Math.Sqrt(va * vb);
    }

    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            for (int i = start; i <= end; i++) ranks[order[i]] = (start + end) / 2.0;
            start = end + 1;
        }
        return ranks;
    }
}
