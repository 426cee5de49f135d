using System.Net;
using System.Text;
using ActScale.Evaluation;

namespace ActScale.Notebook;

/// <summary>Side-by-side tables: runs' metrics and parameter counts, and top tokens before/after an intervention.</summary>
public static class ComparisonTable
{
    private sealed record Line(string Label, Func<NotebookRun, string> Value);

    public static string Html(IReadOnlyList<NotebookRun> runs)
    {
        string Metric(NotebookRun r, string split, double beta, Func<MetricRow, string> format) =>
            r.Metric(split, beta) is { } m ? format(m) : "–";
        var lines = new List<Line>
        {
            new("method", r => r.Run.Method.ToString()),
            new("parameters", r => r.Run.ParameterCount.ToString("N0")),
            new("‖θ‖₁", r => r.Run.L1().ToString("G4")),
            new("non-trivial sites", r => r.Metrics.FirstOrDefault()?.NonTrivialSites.ToString() ?? "–"),
        };
        foreach (var split in new[] { "train", "test" })
        {
            lines.Add(new($"{split}: flip accuracy β=+1", r => Metric(r, split, 1, m => Percent(m.FlipAccuracy))));
            lines.Add(new($"{split}: flip accuracy β=−1", r => Metric(r, split, -1, m => Percent(m.FlipAccuracy))));
            lines.Add(new($"{split}: mean signed logit diff β=+1", r => Metric(r, split, 1, m => m.MeanSignedLogitDifference.ToString("F2"))));
            lines.Add(new($"{split}: mean signed logit diff β=−1", r => Metric(r, split, -1, m => m.MeanSignedLogitDifference.ToString("F2"))));
            lines.Add(new($"{split}: KL non-answer tokens β=+1", r => Metric(r, split, 1, m => m.Kl.ToString("G3"))));
        }
        lines.Add(new("steps", r => r.Run.StepsCompleted + (r.Run.Cancelled ? " (interrupted)" : "")));
        lines.Add(new("training time", r => $"{r.Run.TrainingTime.TotalSeconds:F1} s"));

        var html = new StringBuilder("<table class=\"actscale-comparison\"><thead><tr><th style=\"text-align:left\">metric</th>");
        foreach (var r in runs) html.Append($"<th data-run=\"{WebUtility.HtmlEncode(r.Name)}\">{WebUtility.HtmlEncode(r.Name)}</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var line in lines)
        {
            html.Append($"<tr><td style=\"text-align:left\">{WebUtility.HtmlEncode(line.Label)}</td>");
            foreach (var r in runs) html.Append($"<td>{WebUtility.HtmlEncode(line.Value(r))}</td>");
            html.Append("</tr>");
        }
        return html.Append("</tbody></table><div><i>Flip accuracy: share of prompts whose preferred answer is the intended one (correct at β=+1, wrong at β=−1). The C# variable <code>comparison</code> holds every metric row (and <code>comparisonFrame</code> a Deedle frame where Deedle loads).</i></div>").ToString();
    }

    public static string Percent(double share) => (share * 100).ToString("F0", System.Globalization.CultureInfo.InvariantCulture) + "%";

    public static string TopTokensHtml(string run, TopTokensComparison c)
    {
        var html = new StringBuilder($"<div class=\"actscale-apply\">Run <b>{WebUtility.HtmlEncode(run)}</b> at β = {c.Beta:G3} on <code>{WebUtility.HtmlEncode(c.Prompt)}</code>");
        html.Append("<table><tr><th>#</th><th>before</th><th>p</th><th>after</th><th>p</th></tr>");
        for (int i = 0; i < Math.Max(c.Before.Count, c.After.Count); i++)
        {
            string Cell(IReadOnlyList<TokenProbability> list) => i < list.Count ? $"<td><code>{Predictions.Show(list[i].Token)}</code></td><td>{(list[i].Probability * 100).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)}%</td>" : "<td></td><td></td>";
            html.Append($"<tr><td>{i + 1}</td>{Cell(c.Before)}{Cell(c.After)}</tr>");
        }
        return html.Append("</table></div>").ToString();
    }
}
