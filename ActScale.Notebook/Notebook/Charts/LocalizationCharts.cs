using System.Globalization;
using ActScale.Localization;
using Plotly.NET;

namespace ActScale.Notebook;

/// <summary>The β-curve figures: one chart per measure, train solid and test dashed, the clean model (β = 0) marked.</summary>
public static class LocalizationCharts
{
    public static IReadOnlyList<GenericChart> BetaCurves(string runName, IReadOnlyList<BetaPoint> points)
    {
        GenericChart Chart(string what, params (string Name, Func<BetaPoint, double> Value)[] measures)
        {
            var series = new List<ActScaleCharts.Series>();
            foreach (var split in points.GroupBy(p => p.Split).OrderBy(g => g.Key == "train" ? 0 : 1))
                foreach (var (name, value) in measures)
                {
                    var label = measures.Length > 1 ? $"{name}, {split.Key}" : split.Key;
                    series.Add(new(label, split.Select(p => p.Beta).ToArray(), split.Select(value).ToArray(),
                        split.Select(p => p.IsClean ? "β = 0 (clean model)" : $"β = {p.Beta.ToString("G4", CultureInfo.InvariantCulture)}").ToArray(),
                        Dashed: split.Key != "train"));
                    var clean = split.First(p => p.IsClean);
                    series.Add(new($"clean: {label}", [0.0], [value(clean)], ["β = 0 (clean model)"]));
                }
            return ActScaleCharts.Lines($"{runName}: {what} vs β", "β (strength; 0 = clean model)", what, series);
        }
        return
        [
            Chart("mean logit difference (correct − wrong)", ("LD", p => p.MeanLogitDifference)),
            Chart("answer probabilities", ("p(correct)", p => p.PCorrect), ("p(wrong)", p => p.PWrong)),
            Chart("KL to the clean model on non-answer tokens", ("KL", p => p.Kl)),
            Chart("both-β success at ±|β|", ("success", p => p.BothBetaSuccess)),
        ];
    }

    /// <summary>Both-β success, effect and KL against k (log axis), train solid and test dashed.</summary>
    public static IReadOnlyList<GenericChart> Retention(RetentionResult result)
    {
        GenericChart Chart(string what, Func<RetentionPoint, double> value) => ActScaleCharts.Lines(
            $"{result.RunName}: {what} keeping the k largest of {result.SiteCount} sites", "k (sites kept; the rest reset to the identity)", what,
            result.Points.GroupBy(p => p.Split).OrderBy(g => g.Key == "train" ? 0 : 1).Select(g => new ActScaleCharts.Series(
                g.Key, g.Select(p => (double)p.K).ToArray(), g.Select(value).ToArray(), g.Select(p => $"k = {p.K}").ToArray(), Dashed: g.Key != "train")),
            logX: true);
        return
        [
            Chart("both-β success at ±1", p => p.BothBetaSuccess),
            Chart("effect (LD(+1) − LD(−1)) / 2", p => p.Effect),
            Chart("KL to the clean model at ±1", p => p.Kl),
        ];
    }
}
