using ActScale.Localization;
using ActScale.Objective;
using ActScale.Tasks;
using Microsoft.DotNet.Interactive;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

internal sealed partial class CommandHandlers
{
    public async Task Beta(ActScaleBeta command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var record = session.RequireRun<NotebookRun>(command.Get(RunName));
        var betas = command.Get(LocalizeArgs.BetaValues);
        var (task, _) = session.RequireTask(record.Run.Method);
        var splits = RequireSplits(task, command.Get(LocalizeArgs.Splits));
        var points = await Task.Run(() => Checked(() => BetaCurve.Measure(model, record.Run, task, betas, splits)));
        foreach (var chart in LocalizationCharts.BetaCurves(record.Name, points)) context.Display(chart, "text/html");
        await session.ShareAsync("betaCurve", points, typeof(IReadOnlyList<BetaPoint>));
    }

    public async Task Localize(ActScaleLocalize command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var record = session.RequireRun<NotebookRun>(command.Get(RunName));
        var ks = command.Get(LocalizeArgs.Ks);
        var (task, _) = session.RequireTask(record.Run.Method);
        var splits = RequireSplits(task, command.Get(LocalizeArgs.Splits));
        var result = await Task.Run(() => Checked(() => TopKRetention.Measure(model, record.Run, task, ks, splits)));
        foreach (var chart in LocalizationCharts.Retention(result)) context.Display(chart, "text/html");
        var lines = result.SmallestKAt90.Select(kv => kv.Value is int k
            ? $"{kv.Key}: the {k} largest of {result.SiteCount} sites keep ≥ 90% of the full run's effect"
            : $"{kv.Key}: no k tried keeps 90% of the full run's effect");
        context.Display(new ActScaleHtml($"<div class=\"actscale-localize\">{string.Join("<br/>", lines.Select(System.Net.WebUtility.HtmlEncode))}</div>"), "text/html");
        await session.ShareAsync("retention", result, typeof(RetentionResult));
    }

    /// <summary>The named splits (comma-separated; train and test when null), each of which the task must have.</summary>
    private static IReadOnlyList<string> RequireSplits(PreparedTask task, string? text)
    {
        var names = (text ?? $"{PromptExample.Train},{PromptExample.Test}").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(n => text is not null || task.Splits.ContainsKey(n)).ToArray();
        var missing = names.Where(n => !task.Splits.ContainsKey(n)).ToArray();
        if (missing.Length > 0 || names.Length == 0)
            throw new UsageException($"The prompts have no split {string.Join(", ", missing.Select(m => $"'{m}'"))}; they have {string.Join(", ", task.Splits.Keys)}.");
        return names;
    }

    /// <summary>The library's data and argument errors as usage errors, so the notebook shows the message alone.</summary>
    private static T Checked<T>(Func<T> run)
    {
        try { return run(); }
        catch (TaskDataException e) { throw new UsageException(e.Message); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }
}
