using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ActScale.Evaluation;
using ActScale.Persistence;
using ActScale.Training;

namespace ActScale.Cli;

/// <summary>One metric row of a merged sweep with the setting it belongs to and a hash of that setting's parameters.</summary>
internal sealed record MergedRow(SweepSetting Setting, TrainingOptions Options, MetricRow Metric, string ParametersSha256);

/// <summary>A setting merge could not take, and why (never started, interrupted, cut short).</summary>
internal sealed record MissingSetting(SweepSetting Setting, string Reason);

/// <summary>
/// Every finished setting of a sweep in one table, in plan order, plus the settings that are missing. The table holds
/// no timings, so the same grid trained anywhere (a Slurm array or <c>sweep run --all</c>) gives an identical file.
/// </summary>
internal sealed record SweepMerge(IReadOnlyList<SweepSetting> Plan, IReadOnlyList<MergedRow> Rows, IReadOnlyList<MissingSetting> Missing)
{
    public const string CsvFile = "results.csv";

    private static readonly string[] Columns =
    [
        "index", "setting", "method", "sites", "steps", "batch", "lr", "seed", "lambda_m", "lambda_f", "margin", "split", "beta", "prompts",
        "flip_accuracy", "mean_logit_difference", "mean_signed_logit_difference", "clean_mean_logit_difference", "kl", "l1",
        "parameter_count", "non_trivial_sites", "parameters_sha256",
    ];

    public static SweepMerge Collect(string dir)
    {
        var plan = SweepFolder.ReadPlan(dir);
        var rows = new List<MergedRow>();
        var missing = new List<MissingSetting>();
        foreach (var setting in plan)
        {
            var folder = SweepFolder.SettingFolder(dir, setting.Index);
            var result = RunFolder.ReadResult(folder);
            var run = RunFolder.RunPath(folder);
            var reason = result switch
            {
                null when Directory.Exists(folder) => "started but not finished (killed, or still running)",
                null => "not started",
                { Complete: false } => $"interrupted after {result.StepsCompleted} steps",
                _ when !File.Exists(run) => $"its saved run {run} is missing",
                _ => null,
            };
            if (reason is not null) { missing.Add(new MissingSetting(setting, reason)); continue; }
            var options = CliOptions.ParseTraining(GridFile.Check(setting));
            var hash = RunStore.ParametersSha256(run);
            rows.AddRange(result!.Metrics.Select(m => new MergedRow(setting, options, m, hash)));
        }
        return new SweepMerge(plan, rows, missing);
    }

    /// <summary>Writes DIR/results.csv (invariant culture, round-trip numbers) and returns its path.</summary>
    public string WriteCsv(string dir)
    {
        var text = new StringBuilder(string.Join(",", Columns)).Append('\n');
        foreach (var r in Rows)
        {
            var o = r.Options;
            var m = r.Metric;
            object[] cells =
            [
                r.Setting.Index, r.Setting.Name, o.Method.Name, string.Join(" ", o.SiteKinds.Select(ActScale.Hooks.Site.KindName)), o.Steps, o.BatchSize, o.LearningRate, o.Seed,
                o.Loss.LambdaM, o.Loss.LambdaF, o.Loss.Margin, m.Split, m.Beta, m.Prompts, m.FlipAccuracy, m.MeanLogitDifference, m.MeanSignedLogitDifference,
                m.CleanMeanLogitDifference, m.Kl, m.L1, m.ParameterCount, m.NonTrivialSites, r.ParametersSha256,
            ];
            text.Append(string.Join(",", cells.Select(Cell))).Append('\n');
        }
        var path = Path.Combine(dir, CsvFile);
        ActScale.Runtime.AtomicFile.WriteAllText(path, text.ToString());
        return path;
    }

    private static string Cell(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s when s.Contains(',') || s.Contains('"') => "\"" + s.Replace("\"", "\"\"") + "\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
