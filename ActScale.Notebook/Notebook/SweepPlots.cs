using System.Globalization;
using System.Text.Json.Nodes;
using ActScale.Interventions;
using ActScale.Evaluation;

namespace ActScale.Notebook;

/// <summary>Trade-off plots of a sweep: effectiveness against minimality (‖θ‖₁) and against faithfulness (KL), train and test.</summary>
internal static class SweepPlots
{
    public static IEnumerable<JsonObject> Figures(SweepResult result, string param, SweepParameter parameter, InterventionMethod method)
    {
        if (result.Rows.Count == 0) yield break;
        var points = result.TradeOffs(parameter);
        string label = param.Replace("lambda-m", "λ_M").Replace("lambda-f", "λ_F");
        IEnumerable<PlotlyHtml.Series> Series(Func<TradeOffPoint, double> x) =>
            points.GroupBy(p => p.Split).OrderBy(g => g.Key == "train" ? 0 : 1).Select(g => new PlotlyHtml.Series(
                g.Key, g.Select(x).ToArray(), g.Select(p => p.Effectiveness).ToArray(),
                g.Select(p => $"{label} = {p.Setting.ToString("G3", CultureInfo.InvariantCulture)}").ToArray(), g.Key == "train" ? "solid" : "dash"));
        yield return PlotlyHtml.Scatter($"{method}: effectiveness vs minimality over {label}", "‖θ‖₁ (minimality; lower is more minimal)", "flip accuracy (mean over β = ±1)", Series(p => p.L1));
        yield return PlotlyHtml.Scatter($"{method}: effectiveness vs faithfulness over {label}", "KL on non-answer tokens (lower is more faithful)", "flip accuracy (mean over β = ±1)", Series(p => p.Kl));
    }
}
