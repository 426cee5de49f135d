using System.Globalization;
using System.Net;
using System.Text;
using ActScale.Training;

namespace ActScale.Notebook;

/// <summary>The one live display of a training run, and the summary shown when it ends.</summary>
internal static class TrainingView
{
    public static string Html(string name, TrainingOptions options, TrainingProgress? p, string state)
    {
        double fraction = p is null || p.TotalSteps == 0 ? 0 : (double)p.Step / p.TotalSteps;
        var html = new StringBuilder("<div class=\"actscale-training\" style=\"font-family:monospace\">");
        html.Append($"<b>{WebUtility.HtmlEncode(name)}</b> — {WebUtility.HtmlEncode(options.ToString())}<br/>");
        html.Append($"<div style=\"width:320px;height:10px;border:1px solid #888;display:inline-block\"><div style=\"width:{(fraction * 100).ToString("F0", CultureInfo.InvariantCulture)}%;height:100%;background:#4a7\"></div></div> ");
        if (p is null) html.Append($"step 0/{options.Steps}");
        else
            html.Append($"step {p.Step}/{p.TotalSteps} · loss {p.Loss:G4} (effectiveness {p.Effectiveness:G4}, KL {p.Faithfulness:G4}, ℓ1 {p.L1:G4}; loss = eff + {options.Loss.LambdaF:G3}·KL + {options.Loss.LambdaM:G3}·ℓ1) · " +
                        $"{p.Elapsed.TotalSeconds:F1} s, ETA {p.Eta.TotalSeconds:F0} s");
        html.Append($" · <i>{WebUtility.HtmlEncode(state)}</i></div>");
        return html.ToString();
    }

    public static string SummaryHtml(NotebookRun record, string? note)
    {
        var r = record.Run;
        var html = new StringBuilder("<div class=\"actscale-run-summary\">");
        html.Append($"Run <b>{WebUtility.HtmlEncode(r.Name)}</b>: {r.Method}, {r.ParameterCount:N0} parameters, ‖θ‖₁ {r.L1():G4}. ");
        html.Append($"It is <code>runs[\"{WebUtility.HtmlEncode(r.Name)}\"]</code> in C#. ");
        if (note is not null) html.Append($"<i>{WebUtility.HtmlEncode(note)}</i>");
        html.Append("<table><tr><th>split</th><th>β</th><th>prompts</th><th>flip accuracy</th><th>mean signed LD</th><th>clean LD</th><th>KL</th></tr>");
        foreach (var m in record.Metrics)
            html.Append($"<tr><td>{m.Split}</td><td>{m.Beta:+0.##;-0.##}</td><td>{m.Prompts}</td><td>{ComparisonTable.Percent(m.FlipAccuracy)}</td><td>{m.MeanSignedLogitDifference:F2}</td><td>{m.CleanMeanLogitDifference:F2}</td><td>{m.Kl:G3}</td></tr>");
        return html.Append("</table></div>").ToString();
    }
}
