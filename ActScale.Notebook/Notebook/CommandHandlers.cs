using System.Net;
using Microsoft.DotNet.Interactive;
using ActScale.Model;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

/// <summary>What each <c>#!actscale</c> subcommand does: read options, call the library, display the result.</summary>
internal sealed partial class CommandHandlers(NotebookSession session)
{
    public Task Help(ActScaleHelp command, KernelInvocationContext context)
    {
        context.Display(new ActScaleHtml(ActScaleExtension.FullHelpHtml()), "text/html");
        return Task.CompletedTask;
    }

    public async Task Load(ActScaleLoad command, KernelInvocationContext context)
    {
        var notices = new List<string>();
        var started = DateTime.UtcNow;
        LanguageModel model;
        try
        {
            model = await Task.Run(() => LanguageModel.Load(command.Get(LoadArgs.Model), command.Get(LoadArgs.Device), command.Get(LoadArgs.Dtype), notices.Add));
        }
        catch (DirectoryNotFoundException e) { throw new UsageException(e.Message); }
        var previous = session.Model;
        session.DropPrepared();
        session.Model = model;
        // Runs stay: they are tied to a model identity, and apply/compare refuse a mismatch by name.
        if (previous is not null && !ReferenceEquals(previous, model)) previous.Dispose();
        await session.ShareAsync("model", model, typeof(LanguageModel));
        var c = model.Config;
        var text = $"Loaded <b>{WebUtility.HtmlEncode(model.Name)}</b> ({WebUtility.HtmlEncode(c.ModelType)}, {c.LayerCount} layers, width {c.Width}, {c.HeadCount} heads, vocabulary {c.VocabularySize}) " +
                   $"on <code>{model.Device}</code> in {(DateTime.UtcNow - started).TotalSeconds:F1} s. The C# variable <code>model</code> holds it.";
        foreach (var n in notices) text += $"<br/><i>{WebUtility.HtmlEncode(n)}</i>";
        context.Display(new ActScaleHtml($"<div class=\"actscale-loaded\">{text}</div>"), "text/html");
    }

    public Task Predict(ActScalePredict command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var top = command.Get(PredictArgs.Top);
        var prompt = command.Get(PredictArgs.Prompt)
            ?? throw new UsageException("predict needs a prompt: #!actscale predict --prompt \"The capital of France is\"");
        context.Display(new ActScaleHtml(Predictions.Html(prompt, Predictions.Top(model, prompt, top))), "text/html");
        return Task.CompletedTask;
    }
}
