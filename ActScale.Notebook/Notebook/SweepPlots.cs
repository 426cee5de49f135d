using System.Globalization;
using System.Text.Json.Nodes;
using ActScale.Interventions;
using ActScale.Evaluation;

namespace ActScale.Notebook;

/// <summary>Trade-off plots of a sweep: effectiveness against minimality (‖θ‖₁) and against faithfulness (KL), train and test.</summary>
internal static class SweepPlots
{
    public static IEnumerable<JsonObject> Figures(SweepResult result, string param, InterventionMethod method)
    {
        if (result.Rows.Count == 0) yield break;
        double Value(SweepRow r) => param switch { "lambda-f" => r.LambdaF, "margin" => r.Margin, _ => r.LambdaM };
        // Effectiveness of a setting on a split: flip accuracy averaged over β = +1 and β = −1.
        var points = result.Rows.GroupBy(r => (r.Split, Setting: Value(r)))
            .Select(g => (g.Key.Split, g.Key.Setting, Eff: g.Average(r => r.FlipAccuracy), L1: g.First().L1, Kl: g.Average(r => r.Kl)))
            .OrderBy(p => p.Setting).ToArray();
        string label = param.Replace("lambda-m", "λ_M").Replace("lambda-f", "λ_F");
        IEnumerable<PlotlyHtml.Series> Series(Func<(string Split, double Setting, double Eff, double L1, double Kl), double> x) =>
            points.GroupBy(p => p.Split).OrderBy(g => g.Key == "train" ? 0 : 1).Select(g => new PlotlyHtml.Series(
                g.Key, g.Select(x).ToArray(), g.Select(p => p.Eff).ToArray(),
                g.Select(p => $"{label} = {p.Setting.ToString("G3", CultureInfo.InvariantCulture)}").ToArray(), g.Key == "train" ? "solid" : "dash"));
        yield return PlotlyHtml.Scatter($"{method}: effectiveness vs minimality over {label}", "‖θ‖₁ (minimality; lower is more minimal)", "flip accuracy (mean over β = ±1)", Series(p => p.L1));
        yield return PlotlyHtml.Scatter($"{method}: effectiveness vs faithfulness over {label}", "KL on non-answer tokens (lower is more faithful)", "flip accuracy (mean over β = ±1)", Series(p => p.Kl));
    }
}
