using System.Globalization;
using ActScale.Evaluation;
using Plotly.NET;

namespace ActScale.Notebook;

/// <summary>Trade-off plots of a sweep: effectiveness against minimality (‖θ‖₁) and against faithfulness (KL), train and test.</summary>
internal static class SweepPlots
{
    public static IReadOnlyList<GenericChart> Figures(SweepResult result)
    {
        if (result.Rows.Count == 0) return [];
        var parameter = result.Swept;
        var label = Label(parameter);
        var method = result.Rows[0].Method;
        var points = result.TradeOffs(parameter);
        IEnumerable<ActScaleCharts.Series> Series(Func<TradeOffPoint, double> x) =>
            points.GroupBy(p => p.Split).OrderBy(g => g.Key == "train" ? 0 : 1).Select(g => new ActScaleCharts.Series(
                g.Key, g.Select(x).ToArray(), g.Select(p => p.Effectiveness).ToArray(),
                g.Select(p => $"{label} = {p.Setting.ToString("G3", CultureInfo.InvariantCulture)}").ToArray(), Dashed: g.Key != "train"));
        const string effectiveness = "both-β success (0 = no steering)";
        return
        [
            ActScaleCharts.Lines($"{method}: effectiveness vs minimality over {label}", "‖θ‖₁ (minimality; lower is more minimal)", effectiveness, Series(p => p.L1)),
            ActScaleCharts.Lines($"{method}: effectiveness vs faithfulness over {label}", "KL on non-answer tokens (lower is more faithful)", effectiveness, Series(p => p.Kl)),
        ];
    }

    private static string Label(SweepParameter parameter) => parameter switch
    {
        SweepParameter.LambdaF => "λ_F",
        SweepParameter.Margin => "m",
        SweepParameter.Steps => "steps",
        SweepParameter.LearningRate => "lr",
        _ => "λ_M",
    };
}
