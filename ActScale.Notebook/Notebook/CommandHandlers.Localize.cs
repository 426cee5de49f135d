using ActScale.Localization;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using Microsoft.DotNet.Interactive;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

internal sealed partial class CommandHandlers
{
    public async Task Beta(ActScaleBeta command, KernelInvocationContext context)
    {
        var (record, points) = await MeasureAsync(command, LocalizeArgs.BetaValues,
            (model, run, task, betas, splits) => BetaCurve.Measure(model, run, task, betas, splits));
        foreach (var chart in LocalizationCharts.BetaCurves(record.Name, points)) context.Display(chart, "text/html");
        await session.ShareAsync("betaCurve", points, typeof(IReadOnlyList<BetaPoint>));
    }

    public async Task Localize(ActScaleLocalize command, KernelInvocationContext context)
    {
        var (_, result) = await MeasureAsync(command, LocalizeArgs.Ks, TopKRetention.Measure);
        foreach (var chart in LocalizationCharts.Retention(result)) context.Display(chart, "text/html");
        var lines = result.SmallestKAt90.Select(kv => kv.Value is int k
            ? $"{kv.Key}: the {k} largest of {result.SiteCount} sites keep ≥ 90% of the full run's effect"
            : $"{kv.Key}: no k tried keeps 90% of the full run's effect");
        context.Display(new ActScaleHtml($"<div class=\"actscale-localize\">{string.Join("<br/>", lines.Select(System.Net.WebUtility.HtmlEncode))}</div>"), "text/html");
        await session.ShareAsync("retention", result, typeof(RetentionResult));
    }

    /// <summary>
    /// Measures the command's run at the values of <paramref name="values"/> on its splits, off the kernel's thread. The
    /// model, run, values, prompts and splits are checked in that order, so the first mistake is the one reported.
    /// </summary>
    private async Task<(NotebookRun Record, T Result)> MeasureAsync<TValues, T>(ActScaleCommand command, MagicOption<TValues> values,
        Func<LanguageModel, InterventionRun, PreparedTask, TValues, IReadOnlyList<string>, T> measure)
    {
        var model = session.RequireModel();
        var record = session.RequireRun<NotebookRun>(command.Get(RunName));
        var chosen = command.Get(values);
        var (task, _) = session.RequireTask(record.Run.Method);
        var splits = RequireSplits(task, command.Get(LocalizeArgs.Splits));
        var result = await Task.Run(() => Checked(() => measure(model, record.Run, task, chosen, splits)));
        return (record, result);
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
