using System.Net;
using System.Text.Json.Serialization;
using ActScale.Persistence;
using ActScale.Training;
using Microsoft.DotNet.Interactive;

namespace ActScale.Notebook;

public sealed class ActScaleSweepLoad : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Dir { get; set; }
}

internal sealed partial class CommandHandlers
{
    private static readonly string[] SweptParameters = ["lambda-m", "lambda-f", "margin"];

    /// <summary>
    /// Brings a sweep trained by the <c>actscale</c> tool (locally or as a Slurm array) into the notebook as if it had
    /// been trained here: every finished setting joins the runs, the rows become a <see cref="SweepResult"/> with the
    /// unfinished settings as its failures, and the trade-off plots are drawn per method.
    /// </summary>
    public async Task SweepLoad(ActScaleSweepLoad command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        if (string.IsNullOrWhiteSpace(command.Dir))
            throw new UsageException("sweep-load needs the sweep folder: #!actscale sweep-load runs/my-sweep (made by actscale sweep plan, trained by sweep run or on Slurm).");
        var dir = command.Dir.Trim();
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

        var rows = loaded.SelectMany(r => r.Metrics.Select(m => new SweepRow(r.Run.Options.LambdaM, r.Run.Options.LambdaF, r.Run.Options.Margin, m.Run, m.Method,
            m.Split, m.Beta, m.Prompts, m.FlipAccuracy, m.MeanLogitDifference, m.MeanSignedLogitDifference, m.Kl, m.L1, m.ParameterCount, m.NonTrivialSites, m.TrainingSeconds))).ToArray();
        var result = new SweepResult(rows, missing);
        var name = Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar));
        session.Sweeps[name] = result;
        await session.ShareAsync("sweep", result, typeof(SweepResult));

        context.Display(new ActScaleHtml($"<div>Sweep <b>{WebUtility.HtmlEncode(name)}</b>: {loaded.Count} of {plan.Count} settings loaded; their runs joined " +
                                         "<code>#!actscale runs</code> and the C# variable <code>sweep</code> holds the rows.</div>"), "text/html");
        foreach (var f in missing)
            context.Display(new ActScaleHtml($"<div style=\"color:#b00\">missing: {WebUtility.HtmlEncode(f.Message)}</div>"), "text/html");
        var param = SweptParameters.FirstOrDefault(p => loaded.Select(r => Swept(r.Run.Options, p)).Distinct().Count() > 1) ?? SweptParameters[0];
        foreach (var method in loaded.Select(r => r.Run.Method).Distinct())
        {
            var ofMethod = new SweepResult(rows.Where(r => r.Method == method.ToString()).ToArray(), []);
            foreach (var figure in SweepPlots.Figures(ofMethod, param, method))
                context.Display(new ActScaleHtml(PlotlyHtml.Render(figure)), "text/html");
        }
    }

    private static double Swept(TrainingOptions options, string parameter) =>
        parameter switch { "lambda-f" => options.LambdaF, "margin" => options.Margin, _ => options.LambdaM };
}
