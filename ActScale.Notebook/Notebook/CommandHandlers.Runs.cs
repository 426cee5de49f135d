using System.Net;
using System.Text;
using ActScale.Evaluation;
using ActScale.Persistence;
using ActScale.Tasks;
using Microsoft.DotNet.Interactive;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

/// <summary>The subcommands that work on trained runs: plot, compare, sweep, save, apply, list.</summary>
internal sealed partial class CommandHandlers
{
    public Task Heatmap(ActScaleHeatmap command, KernelInvocationContext context)
    {
        var record = session.RequireRun<NotebookRun>(command.Get(RunName));
        context.Display(record.Heatmap(), "text/html");
        context.Display(EffectHeatmap(record), "text/html");
        return Task.CompletedTask;
    }

    /// <summary>
    /// Beside the raw parameters, what they do: the relative change per site and position on the current held-out
    /// prompts (raw α or ‖v‖ ignore ‖h‖, so an attention sink with a huge norm looks important when it is not).
    /// </summary>
    private object EffectHeatmap(NotebookRun record)
    {
        if (session.Examples is null)
            return new ActScaleHtml("<div><i>Run <code>#!actscale data</code> to see beside it what the run does on held-out prompts.</i></div>");
        try
        {
            var (task, _) = session.RequireTask(record.Run.Method);
            var split = task.Splits.TryGetValue(PromptExample.Test, out var test) ? test : task.Train;
            return SiteEffects.Measure(session.RequireModel(), record.Run, split).Heatmap($"{record.Name} on {split.Name}");
        }
        catch (TaskDataException e)
        {
            return new ActScaleHtml($"<div><i>No effect heatmap: the current prompts do not fit this run ({WebUtility.HtmlEncode(e.Message)})</i></div>");
        }
    }

    public async Task Compare(ActScaleCompare command, KernelInvocationContext context)
    {
        var typed = command.TypedPositionalWords("compare");
        var names = typed.Count > 0 ? typed.ToArray()
            : command.Get(CompareArgs.Runs) is string runs ? Options.Split(runs) : session.RunNames.ToArray();
        var records = names.Select(n => session.RequireRun<NotebookRun>(n)).ToArray();
        if (records.Length == 0) throw new UsageException("No run has been trained yet. Run `#!actscale train` first.");
        var rows = records.SelectMany(r => r.Metrics).ToArray();
        if (session.DeedleUsable()) await ShowFramesAsync(records, rows, context);
        else
        {
            // The record fallback (DeedleUsable has said why, once): the kernel's own table of the rows.
            await session.ShareAsync("comparison", rows, typeof(IReadOnlyList<MetricRow>));
            context.Display(rows, "text/html");
        }
    }

    // Not inlined: Deedle's types are touched only once DeedleUsable has said they load.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private Task ShowFramesAsync(NotebookRun[] records, MetricRow[] rows, KernelInvocationContext context)
    {
        context.Display(new ActScaleHtml(ComparisonTable.Html(ComparisonTable.Frame(records))), "text/html");
        return session.ShareAsync("comparison", Evaluator.ToFrame(rows), typeof(Deedle.Frame<int, string>));
    }

    public async Task Sweep(ActScaleSweep command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var param = command.Get(SweepArgs.Param);
        var values = command.Get(SweepArgs.Values);
        var baseOptions = TrainingOptionsReader.Read(command);
        var grid = SweepGrid.Over(SweepArgs.Parameters[param], values);
        using var training = session.BeginTraining("a sweep", context.CancellationToken);
        var (task, _) = session.RequireTask(baseOptions.Method);
        var lines = new List<string>();
        var display = new LiveDisplay(context, session.LiveUpdates, $"<div>Sweep of {param} over {values.Count} values: starting…</div>");
        var progress = new InlineProgress<string>(line =>
        {
            lines.Add(line);
            display.Update($"<div>Sweep of {WebUtility.HtmlEncode(param)}: {lines.Count}/{values.Count} settings<br/><code>{WebUtility.HtmlEncode(line)}</code></div>");
        });
        var result = await Task.Run(() => Evaluation.Sweep.Run(model, task, baseOptions, grid, null, progress, context.CancellationToken));
        session.Sweeps[command.Get(SweepArgs.Name) ?? "sweep"] = result;
        await session.ShareAsync("sweep", result, typeof(SweepResult));
        display.Finish($"<div>Sweep of {WebUtility.HtmlEncode(param)}: {values.Count - result.Failures.Count} of {values.Count} settings trained; the C# variable <code>sweep</code> holds the rows.</div>");
        foreach (var f in result.Failures)
            context.Display(new ActScaleHtml($"<div style=\"color:#b00\">λM={f.LambdaM:G3} λF={f.LambdaF:G3} m={f.Margin:G3}: {WebUtility.HtmlEncode(f.Message)}</div>"), "text/html");
        context.Display(result, "text/html");
    }

    public Task Save(ActScaleSave command, KernelInvocationContext context)
    {
        var runText = command.Get(RunName);
        if (runText is null && command.Get(SaveArgs.Path) is null)
            throw new UsageException("save needs a run and a file: #!actscale save activscalar --path runs/activscalar.json");
        var parts = Options.Split(runText ?? "");
        var runName = parts.FirstOrDefault();
        var path = command.Get(SaveArgs.Path) ?? (parts.Length > 1 ? parts[1] : null)
            ?? throw new UsageException($"save needs a file to write: #!actscale save {runName ?? "RUN"} --path runs/{runName ?? "run"}.json");
        var record = session.RequireRun<NotebookRun>(runName);
        var written = RunStore.Save(record.Run, path);
        context.Display(new ActScaleHtml($"<div>Saved run <b>{WebUtility.HtmlEncode(record.Name)}</b> to <code>{WebUtility.HtmlEncode(Path.GetFullPath(written))}</code>.</div>"), "text/html");
        return Task.CompletedTask;
    }

    public Task Apply(ActScaleApply command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var record = session.RequireRun<NotebookRun>(command.Get(RunName));
        var beta = command.Get(ApplyArgs.Beta);
        var top = command.Get(PredictArgs.Top);
        var prompt = command.Get(ApplyArgs.Prompt);
        prompt ??= DefaultPrompt(model, record.Run.PromptLength)
            ?? throw new UsageException("apply needs a prompt: #!actscale apply RUN --prompt \"...\"");
        var comparison = Reapply.TopTokens(model, record.Run, prompt, top, beta);
        context.Display(new ActScaleHtml(ComparisonTable.TopTokensHtml(record.Name, comparison)), "text/html");
        return Task.CompletedTask;
    }

    public Task Runs(ActScaleRuns command, KernelInvocationContext context)
    {
        if (session.RunNames.Count == 0)
        {
            context.Display(new ActScaleHtml("<div>No runs yet. Train one with <code>#!actscale train</code>.</div>"), "text/html");
            return Task.CompletedTask;
        }
        var html = new StringBuilder("<table><tr><th style=\"text-align:left\">run</th><th>method</th><th>parameters</th><th>steps</th><th>settings</th></tr>");
        foreach (var name in session.RunNames)
        {
            var r = session.RequireRun<NotebookRun>(name).Run;
            html.Append($"<tr><td style=\"text-align:left\"><b>{WebUtility.HtmlEncode(name)}</b></td><td>{r.Method}</td><td>{r.ParameterCount:N0}</td><td>{r.StepsCompleted}{(r.Cancelled ? " (interrupted)" : "")}</td><td style=\"text-align:left\"><code>{WebUtility.HtmlEncode(r.Options.ToString())}</code></td></tr>");
        }
        context.Display(new ActScaleHtml(html.Append("</table>").ToString()), "text/html");
        return Task.CompletedTask;
    }
}
