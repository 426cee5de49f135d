using System.Globalization;
using System.Net;
using System.Text;
using ActScale.Evaluation;
using ActScale.Training;
using Deedle;

namespace ActScale.Notebook;

/// <summary>Side-by-side tables: runs' metrics and parameter counts, and top tokens before/after an intervention.</summary>
public static class ComparisonTable
{
    private sealed record Line(string Label, Func<InterventionRun, IReadOnlyList<MetricRow>, string> Value);

    /// <summary>One column per run, one row per metric, values formatted for reading (percentages, "–" where absent).</summary>
    public static Frame<string, string> Frame(IEnumerable<(InterventionRun Run, IReadOnlyList<MetricRow> Metrics)> runs)
    {
        var lines = Lines();
        var columns = runs.Select(r => KeyValuePair.Create(r.Run.Name,
            new Series<string, string>(lines.Select(l => l.Label), lines.Select(l => l.Value(r.Run, r.Metrics)))));
        return Deedle.Frame.FromColumns<string, string, string>(columns);
    }

    public static Frame<string, string> Frame(IEnumerable<NotebookRun> runs) => Frame(runs.Select(r => (r.Run, r.Metrics)));

    public static Frame<string, string> Frame(ComparisonResult result) =>
        Frame(result.Runs.Select(run => (run, (IReadOnlyList<MetricRow>)result.Rows.Where(m => m.Run == run.Name).ToArray())));

    /// <summary>The comparison frame as HTML, with the note that says how to read flip accuracy.</summary>
    public static string Html(Frame<string, string> frame) =>
        $"<div class=\"actscale-comparison\">{FrameHtml.Of(frame)}<div><i>Flip accuracy: share of prompts whose preferred answer is the intended one " +
        "(correct at β=+1, wrong at β=−1), beside the clean model's and the change; an intervention that does nothing scores its clean " +
        "accuracy at β=+1 and one minus it at β=−1. Both-β success: the share of prompts that prefer correct at β=+1 and wrong at β=−1 " +
        "(0 for a null intervention). Top-1 guard: the share whose top token is one of the two answers. The C# variable <code>comparison</code> holds every metric row.</i></div></div>";

    private static List<Line> Lines()
    {
        static string Metric(IReadOnlyList<MetricRow> metrics, string split, double beta, Func<MetricRow, string> format) =>
            metrics.FirstOrDefault(m => m.Split == split && m.Beta == beta) is { } m ? format(m) : "–";
        var lines = new List<Line>
        {
            new("method", (r, _) => r.Method.ToString()),
            new("parameters", (r, _) => r.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)),
            new("‖θ‖₁", (r, _) => r.L1().ToString("G4", CultureInfo.InvariantCulture)),
            new("non-trivial sites", (_, m) => m.FirstOrDefault()?.NonTrivialSites.ToString(CultureInfo.InvariantCulture) ?? "–"),
        };
        foreach (var split in new[] { "train", "test" })
        {
            lines.Add(new($"{split}: clean accuracy (β=0)", (_, m) => Metric(m, split, 0, x => Percent(x.FlipAccuracy))));
            lines.Add(new($"{split}: clean logit diff (β=0)", (_, m) => Metric(m, split, 0, x => Number(x.MeanLogitDifference))));
            foreach (var beta in new[] { 1.0, -1.0 })
            {
                var b = beta > 0 ? "β=+1" : "β=−1";
                lines.Add(new($"{split}: flip accuracy {b} (clean, change)", (_, m) => Metric(m, split, beta,
                    x => $"{Percent(x.FlipAccuracy)} ({Percent(x.CleanFlipAccuracy)}, {SignedPoints(x.FlipAccuracyChange)})")));
                lines.Add(new($"{split}: mean signed logit diff {b}", (_, m) => Metric(m, split, beta, x => Number(x.MeanSignedLogitDifference))));
                lines.Add(new($"{split}: KL non-answer tokens {b}", (_, m) => Metric(m, split, beta, x => x.Kl.ToString("G3", CultureInfo.InvariantCulture))));
                lines.Add(new($"{split}: top-1 guard {b}", (_, m) => Metric(m, split, beta, x => Percent(x.Top1Guard))));
            }
            lines.Add(new($"{split}: both-β success", (_, m) => Metric(m, split, 1, x => Percent(x.BothBetaSuccess))));
        }
        lines.Add(new("steps", (r, _) => r.StepsCompleted + (r.Cancelled ? " (interrupted)" : "")));
        lines.Add(new("training time", (r, _) => $"{r.TrainingTime.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s"));
        return lines;
    }

    private static string Number(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>A change of share in percentage points, always signed so a drop cannot pass for a gain.</summary>
    private static string SignedPoints(double change) => double.IsNaN(change) ? "–" : (change * 100).ToString("+0;−0;0", CultureInfo.InvariantCulture) + " pts";

    public static string Percent(double share) => double.IsNaN(share) ? "–" : (share * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";

    /// <summary>The top tokens before and after applying a run (named when <paramref name="run"/> is given).</summary>
    public static string TopTokensHtml(string? run, TopTokensComparison c)
    {
        var who = run is null ? "Applied" : $"Run <b>{WebUtility.HtmlEncode(run)}</b>";
        var html = new StringBuilder($"<div class=\"actscale-apply\">{who} at β = {c.Beta:G3} on <code>{WebUtility.HtmlEncode(c.Prompt)}</code>");
        html.Append("<table><tr><th>#</th><th>before</th><th>p</th><th>after</th><th>p</th></tr>");
        for (int i = 0; i < Math.Max(c.Before.Count, c.After.Count); i++)
        {
            string Cell(IReadOnlyList<TokenProbability> list) => i < list.Count ? $"<td><code>{Predictions.Show(list[i].Token)}</code></td><td>{(list[i].Probability * 100).ToString("F1", CultureInfo.InvariantCulture)}%</td>" : "<td></td><td></td>";
            html.Append($"<tr><td>{i + 1}</td>{Cell(c.Before)}{Cell(c.After)}</tr>");
        }
        return html.Append("</table></div>").ToString();
    }
}
