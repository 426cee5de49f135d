using System.Globalization;
using ActScale.Training;
using Plotly.NET;

namespace ActScale.Notebook;

/// <summary>Trade-off plots of a sweep: effectiveness against minimality (‖θ‖₁) and against faithfulness (KL), train and test.</summary>
internal static class SweepPlots
{
    private sealed record Point(string Split, double Setting, double Effectiveness, double L1, double Kl);

    public static IReadOnlyList<GenericChart> Figures(SweepResult result)
    {
        if (result.Rows.Count == 0) return [];
        var (param, value) = SweptParameter(result.Rows);
        var method = result.Rows[0].Method;
        // Effectiveness of a setting on a split: flip accuracy averaged over β = +1 and β = −1.
        var points = result.Rows.GroupBy(r => (r.Split, Setting: value(r)))
            .Select(g => new Point(g.Key.Split, g.Key.Setting, g.Average(r => r.FlipAccuracy), g.First().L1, g.Average(r => r.Kl)))
            .OrderBy(p => p.Setting).ToArray();
        IEnumerable<ActScaleCharts.Series> Series(Func<Point, double> x) =>
            points.GroupBy(p => p.Split).OrderBy(g => g.Key == "train" ? 0 : 1).Select(g => new ActScaleCharts.Series(
                g.Key, g.Select(x).ToArray(), g.Select(p => p.Effectiveness).ToArray(),
                g.Select(p => $"{param} = {p.Setting.ToString("G3", CultureInfo.InvariantCulture)}").ToArray(), Dashed: g.Key != "train"));
        const string effectiveness = "flip accuracy (mean over β = ±1)";
        return
        [
            ActScaleCharts.Lines($"{method}: effectiveness vs minimality over {param}", "‖θ‖₁ (minimality; lower is more minimal)", effectiveness, Series(p => p.L1)),
            ActScaleCharts.Lines($"{method}: effectiveness vs faithfulness over {param}", "KL on non-answer tokens (lower is more faithful)", effectiveness, Series(p => p.Kl)),
        ];
    }

    /// <summary>The hyper-parameter that varies across the sweep's rows (λ_M when none or several do).</summary>
    private static (string Label, Func<SweepRow, double> Value) SweptParameter(IReadOnlyList<SweepRow> rows)
    {
        (string, Func<SweepRow, double>)[] candidates = [("λ_F", r => r.LambdaF), ("m", r => r.Margin), ("λ_M", r => r.LambdaM)];
        return candidates.FirstOrDefault(c => rows.Select(c.Item2).Distinct().Count() > 1, candidates[^1]);
    }
}
