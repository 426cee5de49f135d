using System.Net;
using System.Text;
using ActScale.Evaluation;
using ActScale.Model;

namespace ActScale.Notebook;

/// <summary>The model's top next tokens for a prompt, as HTML.</summary>
public static class Predictions
{
    public static IReadOnlyList<TokenProbability> Top(LanguageModel model, string prompt, int k)
    {
        if (string.IsNullOrEmpty(prompt)) throw new UsageException("--prompt is empty; give the prompt text in quotes, e.g. --prompt \"Rome is in\".");
        return Reapply.TopTokens(model, prompt, k);
    }

    public static string Html(string prompt, IReadOnlyList<TokenProbability> guesses, string? caption = null)
    {
        var html = new StringBuilder($"<div>{WebUtility.HtmlEncode(caption ?? "Next token after")} <code>{WebUtility.HtmlEncode(prompt)}</code></div>");
        html.Append("<table class=\"actscale-predictions\">");
        html.Append("<tr><th>#</th><th style=\"text-align:left\">token</th><th>probability</th><th>logit</th></tr>");
        for (int i = 0; i < guesses.Count; i++)
            html.Append($"<tr><td>{i + 1}</td><td style=\"text-align:left\"><code>{Show(guesses[i].Token)}</code></td><td>{(guesses[i].Probability * 100).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)}%</td><td>{guesses[i].Logit:F2}</td></tr>");
        return html.Append("</table>").ToString();
    }

    /// <summary>A token as text a reader can see: leading spaces and newlines made visible.</summary>
    public static string Show(string token) =>
        WebUtility.HtmlEncode(token.Replace("\n", "\\n").Replace(" ", "␣"));
}
