using System.Globalization;
using System.Net;
using System.Text;
using ActScale.Generation;
using ActScale.Model;
using ActScale.Tasks;
using Microsoft.DotNet.Interactive;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

internal sealed partial class CommandHandlers
{
    public Task Generate(ActScaleGenerate command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var record = session.RequireRun<NotebookRun>(command.Get(RunName));
        var prompt = command.Get(GenerateArgs.Prompt) ?? DefaultPrompt(model, record.Run.PromptLength)
            ?? throw new UsageException("generate needs a prompt: #!actscale generate RUN --prompt \"...\" (or load data whose test prompts fit the run).");
        // A task prompt brings its answers; typed answers win.
        var example = session.Examples?.FirstOrDefault(e => e.Prompt == prompt);
        var options = new GenerationOptions
        {
            MaxTokens = command.Get(GenerateArgs.MaxTokens), Temperature = command.Get(GenerateArgs.Temperature),
            TopK = command.Get(GenerateArgs.TopK), TopP = command.Get(GenerateArgs.TopP), Seed = command.Get(GenerateArgs.Seed),
        };
        var result = Checked(() => SteeredGeneration.Generate(model, record.Run, prompt, command.Get(GenerateArgs.Betas), options,
            Spaced(command.Get(GenerateArgs.Correct)) ?? example?.Correct, Spaced(command.Get(GenerateArgs.Wrong)) ?? example?.Wrong));
        context.Display(new ActScaleHtml(Html(result)), "text/html");
        return Task.CompletedTask;
    }

    /// <summary>A typed answer word as it follows a prompt: after a space (the option's text arrives trimmed).</summary>
    private static string? Spaced(string? word) => word is null ? null : " " + word;

    /// <summary>The first test prompt (then any prompt) of the session's data that a run tied to <paramref name="length"/> tokens accepts.</summary>
    private string? DefaultPrompt(LanguageModel model, int? length) =>
        session.Examples?.Where(e => e.Split == PromptExample.Test).Concat(session.Examples)
            .FirstOrDefault(e => length is null || model.Tokenizer.Encode(e.Prompt).Length == length)?.Prompt;

    private static string Html(SteeredGenerationResult result)
    {
        static string P(double? p) => p is double v ? (100 * v).ToString("F1", CultureInfo.InvariantCulture) + "%" : "–";
        static string Beta(SteeredContinuation c) => c.IsClean ? "0 (clean)" : c.Beta.ToString("+0.##;−0.##", CultureInfo.InvariantCulture);
        string Answer(string label, string? text) => text is null ? label : $"{label} <code>{WebUtility.HtmlEncode(text)}</code>";
        var html = new StringBuilder($"<div class=\"actscale-generate\"><div>Run <b>{WebUtility.HtmlEncode(result.RunName)}</b> on <i>{WebUtility.HtmlEncode(result.Prompt)}</i></div>");
        html.Append($"<table><tr><th>β</th><th style=\"text-align:left\">continuation</th><th>first token {Answer("p(correct)", result.Correct)}</th><th>{Answer("p(wrong)", result.Wrong)}</th></tr>");
        foreach (var c in result.Continuations)
            html.Append($"<tr><td>{Beta(c)}</td><td style=\"text-align:left;white-space:pre-wrap\">{WebUtility.HtmlEncode(c.Text)}</td><td>{P(c.PCorrect)}</td><td>{P(c.PWrong)}</td></tr>");
        return html.Append("</table></div>").ToString();
    }
}
