using System.Net;
using System.Text;
using ActScale.Evaluation;
using ActScale.Runtime;
using ActScale.Tasks;
using ActScale.Training;
using Microsoft.DotNet.Interactive;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

internal sealed partial class CommandHandlers
{
    public async Task Data(ActScaleData command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var task = command.Get(DataArgs.Task);
        TaskSelection selection;
        try
        {
            selection = TaskSelector.Select(model, task, command.Get(DataArgs.Train), command.Get(DataArgs.Test),
                command.Get(DataArgs.Seed), DataLocator.ListsFolder());
        }
        catch (FileNotFoundException e) when (e.FileName == task) { throw new UsageException("--task: " + e.Message); }
        session.SetData(selection.Examples, selection.Source);
        await session.ShareAsync("prompts", selection.Examples, typeof(IReadOnlyList<PromptExample>));
        context.Display(new ActScaleHtml(DataHtml(model, selection)), "text/html");
    }

    private static string DataHtml(ActScale.Model.LanguageModel model, TaskSelection selection)
    {
        var (train, test) = (selection.Train, selection.Test);
        var lengths = selection.Examples.Select(e => model.Tokenizer.Encode(e.Prompt).Length).Distinct().Order().ToArray();
        var html = new StringBuilder();
        html.Append($"<div class=\"actscale-data\"><b>{WebUtility.HtmlEncode(selection.Source)}</b>: {train.Count} train and {test.Count} test prompts, " +
                    $"{(lengths.Length == 1 ? $"all {lengths[0]} tokens long" : $"lengths {string.Join(", ", lengths)} tokens (ActivScalar and SteerVec will use the most common length)")}.");
        if (selection.Note is not null) html.Append($" <i>{WebUtility.HtmlEncode(selection.Note)}.</i>");
        html.Append(" The C# variable <code>prompts</code> holds them.");
        html.Append("<table><tr><th>split</th><th style=\"text-align:left\">prompt</th><th>correct</th><th>wrong</th></tr>");
        foreach (var e in train.Take(2).Concat(test.Take(1)))
            html.Append($"<tr><td>{e.Split}</td><td style=\"text-align:left\">{WebUtility.HtmlEncode(e.Prompt)}</td><td><code>{Predictions.Show(e.Correct)}</code></td><td><code>{Predictions.Show(e.Wrong)}</code></td></tr>");
        return html.Append("</table></div>").ToString();
    }

    public async Task Train(ActScaleTrain command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var options = TrainingOptionsReader.Read(command, TrainingOptionsReader.ReadLoss(command));
        var name = command.Get(TrainArgs.Name) ?? options.Method.Name.ToLowerInvariant();
        using var training = session.BeginTraining($"training '{name}'", context.CancellationToken);
        var (task, note) = session.RequireTask(options.Method);

        var display = new LiveDisplay(context, session.LiveUpdates, TrainingView.Html(name, options, null, "starting…"));
        var shown = new InlineProgress<TrainingProgress>(p => display.Update(TrainingView.Html(name, options, p, "training")));
        // The step probe (tests only) sees each report on the training thread and may throw, as a failing step would.
        var probe = session.StepProbe;
        IProgress<TrainingProgress> progress = probe is null ? shown : new InlineProgress<TrainingProgress>(p => { probe(p); shown.Report(p); }, swallow: false);
        EvaluatedRun evaluated;
        try
        {
            evaluated = await Task.Run(() => Experiment.TrainAndEvaluate(model, task, options, name, progress: progress, cancellation: context.CancellationToken));
        }
        catch (DeviceOutOfMemoryException oom)
        {
            display.Finish(TrainingView.Html(name, options, null, "out of memory"));
            throw new UsageException($"Training '{name}' stopped: {oom.Message} No run named '{name}' was added; earlier runs are still here.");
        }
        catch (TrainingDivergedException diverged)
        {
            var kept = await KeepAsync(Experiment.Evaluate(model, diverged.LastGoodRun, task));
            display.Finish(TrainingView.Html(name, options, diverged.LastGoodRun.History.LastOrDefault(), "diverged"));
            throw new UsageException($"{diverged.Message} The run '{kept.Name}' keeps the last finite parameters. Try a smaller --lr.");
        }
        var run = evaluated.Run;
        var record = await KeepAsync(evaluated);
        var state = run.Cancelled ? $"interrupted after {run.StepsCompleted} steps: kept the best parameters seen" : $"done in {run.TrainingTime.TotalSeconds:F1} s";
        display.Finish(TrainingView.Html(name, options, run.History.LastOrDefault(), state));
        context.Display(new ActScaleHtml(TrainingView.SummaryHtml(record, note)), "text/html");
    }

    private async Task<NotebookRun> KeepAsync(EvaluatedRun evaluated)
    {
        var record = new NotebookRun(evaluated.Run, evaluated.Metrics);
        session.AddRun(record.Name, record);
        await session.ShareRunsAsync();
        return record;
    }
}
