using System.Net;
using ActScale.Evaluation;
using ActScale.Persistence;
using ActScale.Training;
using Microsoft.DotNet.Interactive;

namespace ActScale.Notebook;

public sealed class ActScaleSweepLoad : ActScaleCommand;

internal sealed partial class CommandHandlers
{
    /// <summary>
    /// Brings a sweep trained by the <c>actscale</c> tool (locally or as a Slurm array) into the notebook as if it had
    /// been trained here: every finished setting joins the runs, the rows become a <see cref="SweepResult"/> with the
    /// unfinished settings as its failures, and the trade-off plots are drawn per method over the parameter that varies.
    /// </summary>
    public async Task SweepLoad(ActScaleSweepLoad command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var dir = command.Get(CommandCatalog.SweepLoadArgs.Dir)
            ?? throw new UsageException("sweep-load needs the sweep folder: #!actscale sweep-load runs/my-sweep (made by actscale sweep plan, trained by sweep run or on Slurm).");
        var plan = SweepFolder.ReadPlan(dir);
        var loaded = new List<NotebookRun>();
        var missing = new List<SweepFailure>();
        foreach (var setting in plan)
        {
            var folder = SweepFolder.SettingFolder(dir, setting.Index);
            if (RunFolder.ReadResult(folder) is not { Complete: true } finished)
            {
                missing.Add(new SweepFailure(double.NaN, double.NaN, double.NaN, $"setting {setting.Index} ({setting.Name}) has not finished; run: actscale sweep run {dir} --index {setting.Index}"));
                continue;
            }
            loaded.Add(new NotebookRun(RunStore.Load(RunFolder.RunPath(folder), model), finished.Metrics));
        }
        foreach (var record in loaded) session.AddRun(record.Name, record);
        await session.ShareRunsAsync();

        var rows = loaded.SelectMany(Rows).ToArray();
        var result = new SweepResult(rows, missing);
        var name = Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar));
        session.Sweeps[name] = result;
        await session.ShareAsync("sweep", result, typeof(SweepResult));

        context.Display(new ActScaleHtml($"<div>Sweep <b>{WebUtility.HtmlEncode(name)}</b>: {loaded.Count} of {plan.Count} settings loaded; their runs joined " +
                                         "<code>#!actscale runs</code> and the C# variable <code>sweep</code> holds the rows.</div>"), "text/html");
        foreach (var f in missing)
            context.Display(new ActScaleHtml($"<div style=\"color:#b00\">missing: {WebUtility.HtmlEncode(f.Message)}</div>"), "text/html");
        // One trade-off display per method; the result's formatter finds the swept parameter from its rows.
        foreach (var ofMethod in loaded.GroupBy(r => r.Run.Method))
            context.Display(new SweepResult(ofMethod.SelectMany(Rows).ToArray(), []), "text/html");
    }

    private static IEnumerable<SweepRow> Rows(NotebookRun record) => record.Metrics.Select(m => SweepRow.From(record.Run.Options, m));
}
