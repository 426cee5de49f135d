using System.Globalization;
using System.Net;
using System.Text;
using ActScale.Evaluation;

namespace ActScale.Notebook;

/// <summary>A run's per-prompt results as an HTML table, worst first, under a line per split saying how many succeed.</summary>
public static class PromptTable
{
    /// <summary>
    /// The <paramref name="top"/> worst of <paramref name="results"/> (only those that fail at either β when
    /// <paramref name="failedOnly"/>), ordered by <see cref="PromptResults.WorstFirst"/>.
    /// </summary>
    public static IReadOnlyList<PromptResult> Shown(IEnumerable<PromptResult> results, bool failedOnly, int top) =>
        PromptResults.WorstFirst(results.Where(r => !failedOnly || !r.BothBetaSuccess)).Take(top).ToList();

    public static string Html(string run, IReadOnlyList<PromptResult> results, bool failedOnly, int top)
    {
        var shown = Shown(results, failedOnly, top);
        var html = new StringBuilder($"<div class=\"actscale-prompts\">Run <b>{WebUtility.HtmlEncode(run)}</b>: ");
        html.Append(string.Join("; ", results.GroupBy(r => r.Split).Select(g =>
            $"{WebUtility.HtmlEncode(g.Key)}: {g.Count(r => r.BothBetaSuccess)} of {g.Count()} prompts succeed at both β ({ComparisonTable.Percent(g.Count(r => r.BothBetaSuccess) / (double)g.Count())})")));
        html.Append($". Showing {shown.Count} {(failedOnly ? "failing " : "")}prompt{(shown.Count == 1 ? "" : "s")}, worst first.");
        html.Append("<table><tr><th>split</th><th>#</th><th style=\"text-align:left\">prompt</th><th>correct</th><th>wrong</th><th>clean LD</th>" +
                    "<th>LD β=+1</th><th>LD β=−1</th><th>KL β=+1</th><th>KL β=−1</th><th>top β=+1</th><th>top β=−1</th><th>both β</th></tr>");
        foreach (var r in shown)
            html.Append($"<tr><td>{WebUtility.HtmlEncode(r.Split)}</td><td>{r.Index}</td><td style=\"text-align:left\">{WebUtility.HtmlEncode(r.Prompt)}</td>" +
                        $"<td><code>{Predictions.Show(r.Correct)}</code></td><td><code>{Predictions.Show(r.Wrong)}</code></td>" +
                        $"<td>{Number(r.CleanLogitDifference)}</td><td>{Number(r.LogitDifferencePlus)}</td><td>{Number(r.LogitDifferenceMinus)}</td>" +
                        $"<td>{Number(r.KlPlus)}</td><td>{Number(r.KlMinus)}</td><td><code>{Predictions.Show(r.TopTokenPlus)}</code></td>" +
                        $"<td><code>{Predictions.Show(r.TopTokenMinus)}</code></td><td>{(r.BothBetaSuccess ? "✓" : "✗")}</td></tr>");
        html.Append("</table><div><i>LD: logit(correct) − logit(wrong); a prompt succeeds at both β when its LD is positive at β=+1 and negative at β=−1, " +
                    "and the worst are those whose smaller signed LD, min(LD β=+1, −LD β=−1), is lowest. KL: to the clean model on the other tokens. " +
                    "The C# variable <code>promptResults</code> holds every prompt of these splits.</i></div></div>");
        return html.ToString();
    }

    private static string Number(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
