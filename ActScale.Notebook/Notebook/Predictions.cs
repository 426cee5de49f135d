using System.Net;
using System.Text;
using ActScale.Hooks;
using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Notebook;

/// <summary>One candidate next token.</summary>
public sealed record TokenGuess(string Token, double Probability, double Logit);

/// <summary>The model's top next tokens for a prompt, with or without hooks.</summary>
public static class Predictions
{
    public static IReadOnlyList<TokenGuess> Top(LanguageModel model, string prompt, int k, HookSet? hooks = null)
    {
        if (string.IsNullOrEmpty(prompt)) throw new UsageException("--prompt is empty; give the prompt text in quotes, e.g. --prompt \"Rome is in\".");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = model.Encode(prompt);
        var logits = model.Transformer.Logits(ids, hooks)[0, -1].to_type(ScalarType.Float32).cpu();
        var probs = logits.softmax(0);
        var (values, indices) = probs.topk(Math.Min(k, (int)probs.shape[0]));
        var p = values.data<float>().ToArray();
        var id = indices.data<long>().ToArray();
        var l = logits.data<float>();
        return id.Select((t, i) => new TokenGuess(model.Tokenizer.TokenText((int)t), p[i], l[(int)t])).ToArray();
    }

    public static string Html(string prompt, IReadOnlyList<TokenGuess> guesses, string? caption = null)
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
