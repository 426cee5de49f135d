using System.Globalization;
using ActScale.Notebook;
using ActScale.Persistence;

namespace ActScale.Cli;

/// <summary><c>actscale sweep plan|run|slurm|merge</c>: a grid trained setting by setting, anywhere, then collected.</summary>
internal static class SweepCommands
{
    private const string Usage = "actscale sweep plan GRID.json --out DIR | run DIR --index I|--all | slurm DIR [--partition P] [--time T] [--cpus C] [--gpus G] | merge DIR";

    private static readonly MagicOption<string?> Out = MagicOptions.Text("--out", "Folder for the plan, the runs and the merged results.", "", "sweeps/ccc");
    private static readonly MagicOption<string?> Index = MagicOptions.Text("--index", "The setting to train (0-based line of plan.jsonl); Slurm passes $SLURM_ARRAY_TASK_ID.", "", "0");
    private static readonly MagicOption<string?> All = MagicOptions.Text("--all", "Train every setting not yet finished, one after another, here.", "", "");
    private static readonly MagicOption<string?> Partition = MagicOptions.Text("--partition", "Slurm partition to submit to.", "the cluster's default", "gpu");
    private static readonly MagicOption<string?> Time = MagicOptions.Text("--time", "Time limit per setting (Slurm's format, e.g. 00:30:00).", "the partition's limit", "00:30:00");
    private static readonly MagicOption<int> Cpus = MagicOptions.Int("--cpus", "CPU cores per setting (--cpus-per-task); torch uses the grid's --threads.", 1, 1, 1024);
    private static readonly MagicOption<int> Gpus = MagicOptions.Int("--gpus", "GPUs per setting (--gpus); needs the CUDA backend where the tool runs.", 0, 0, 64, example: 1);
    private static readonly MagicOption<string?> Command = MagicOptions.Text("--actscale", "Command that starts this tool on the nodes.", "the command running now", "actscale");
    private static readonly MagicOption[] SlurmOptions = [Partition, Time, Cpus, Gpus, Command];

    public static int Run(IReadOnlyList<string> words, Interrupt interrupt)
    {
        var action = words.Count > 0 ? words[0] : null;
        var rest = words.Skip(1).ToArray();
        return action switch
        {
            "plan" => Plan(CommandLine.Parse("actscale sweep plan", rest, [Out])),
            "run" => RunSettings(CommandLine.Parse("actscale sweep run", rest, [Index, All], All.Name), interrupt),
            "slurm" => Slurm(CommandLine.Parse("actscale sweep slurm", rest, SlurmOptions)),
            "merge" => Merge(CommandLine.Parse("actscale sweep merge", rest, [])),
            null or "--help" or "help" => Help.Show(Usage, "Plans a grid of settings, trains them here or as a Slurm job array, and merges the results.", [Out, Index, All, .. SlurmOptions]),
            _ => throw new UsageException($"actscale sweep has no action '{action}'; it has plan, run, slurm and merge. {Usage}"),
        };
    }

    private static int Plan(CommandLine line)
    {
        if (line.Help) return Help.Show("actscale sweep plan GRID.json --out DIR", "Writes DIR/plan.jsonl, one setting a line.", [Out]);
        var grid = line.RequirePositional("a grid file", "actscale sweep plan GRID.json --out DIR");
        var dir = line.Get(Out) ?? throw new UsageException("actscale sweep plan needs --out DIR, the folder the sweep will live in.");
        var settings = GridFile.Plan(grid);
        if (File.Exists(SweepFolder.PlanPath(dir)) && !SweepFolder.ReadPlan(dir).Select(s => s.Options).SequenceEqual(settings.Select(s => s.Options), new OptionsComparer()))
            throw new UsageException($"'{dir}' already holds a different plan; its finished settings would no longer match. Choose another --out folder or delete '{dir}'.");
        SweepFolder.WritePlan(dir, settings);
        File.Copy(grid, Path.Combine(dir, "grid.json"), overwrite: true);
        foreach (var s in settings) Console.Out.WriteLine($"{s.Index}\t{s.Name}");
        Console.Error.WriteLine($"planned {settings.Count} settings in {SweepFolder.PlanPath(dir)}");
        return 0;
    }

    private static int RunSettings(CommandLine line, Interrupt interrupt)
    {
        const string usage = "actscale sweep run DIR --index I | --all";
        if (line.Help) return Help.Show(usage, "Trains settings of a planned sweep; finished ones are skipped, half-written ones redone.", [Index, All]);
        var dir = line.RequirePositional("the sweep folder", usage);
        var plan = SweepFolder.ReadPlan(dir);
        bool all = line[All.Name] is not null;
        if (all == (line[Index.Name] is not null)) throw new UsageException($"actscale sweep run needs either --index I or --all: {usage}");
        var indices = all ? Enumerable.Range(0, plan.Count) : [Options.Int(line[Index.Name], Index.Name, 0, 0, plan.Count - 1)];
        int failed = 0;
        using var engines = new EngineCache();
        foreach (var i in indices)
        {
            if (interrupt.Token.IsCancellationRequested) return interrupt.ExitCode;
            var setting = plan[i];
            if (SweepFolder.IsComplete(dir, i)) { Console.Error.WriteLine($"setting {i} ({setting.Name}): already done"); continue; }
            // Whatever a killed or interrupted attempt left is discarded: the setting is trained from the start.
            var folder = SweepFolder.SettingFolder(dir, i);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Console.Error.WriteLine($"setting {i} ({setting.Name}): training");
            try
            {
                var settingLine = GridFile.Check(setting);
                if (!TrainCommand.TrainInto(settingLine, folder, engines.For(settingLine), interrupt)) return interrupt.ExitCode;
            }
            catch (UsageException e) when (all)
            {
                failed++;
                Console.Error.WriteLine($"setting {i} ({setting.Name}) FAILED: {e.Message}");
            }
        }
        return failed == 0 ? 0 : 1;
    }

    private static int Slurm(CommandLine line)
    {
        const string usage = "actscale sweep slurm DIR [--partition P] [--time T] [--cpus C] [--gpus G]";
        if (line.Help) return Help.Show(usage, "Writes DIR/sweep.sbatch, a Slurm job array with one task per setting.", SlurmOptions);
        var dir = Path.GetFullPath(line.RequirePositional("the sweep folder", usage));
        var plan = SweepFolder.ReadPlan(dir);
        var script = new SlurmScript(dir, plan.Count, line.Get(Partition), line.Get(Time), line.Get(Cpus), line.Get(Gpus), line.Get(Command) ?? SlurmScript.CurrentCommand());
        var path = script.Write();
        Console.Out.WriteLine($"sbatch {path}");
        Console.Error.WriteLine($"wrote {path}: {plan.Count} array tasks, logs in {Path.Combine(dir, "logs")}; then: actscale sweep merge {dir}");
        return 0;
    }

    private static int Merge(CommandLine line)
    {
        const string usage = "actscale sweep merge DIR";
        if (line.Help) return Help.Show(usage, "Collects every finished setting into DIR/results.csv and lists the missing ones.", []);
        var dir = line.RequirePositional("the sweep folder", usage);
        var merged = SweepMerge.Collect(dir);
        var csv = merged.WriteCsv(dir);
        Console.Out.Write(MetricsTable.Text(merged.Rows.Select(r => r.Metric)));
        Console.Error.WriteLine($"{merged.Rows.Select(r => r.Setting.Index).Distinct().Count()} of {merged.Plan.Count} settings merged into {csv}");
        if (merged.Missing.Count == 0) return 0;
        foreach (var m in merged.Missing) Console.Error.WriteLine($"missing: setting {m.Setting.Index} ({m.Setting.Name}): {m.Reason}");
        Console.Error.WriteLine($"resubmit them: sbatch --array={string.Join(",", merged.Missing.Select(m => m.Setting.Index.ToString(CultureInfo.InvariantCulture)))} {Path.Combine(dir, SlurmScript.FileName)}" +
                                $"  (or here: actscale sweep run {dir} --all)");
        return 3;
    }

    /// <summary>Settings that share a model and thread count share one loaded copy: a local sweep loads it once.</summary>
    private sealed class EngineCache : IDisposable
    {
        private Engine? _engine;
        private (LoadSettings, int)? _loadedFor;

        public Engine For(CommandLine line)
        {
            var wanted = (CliOptions.ParseLoad(line), CliOptions.ParseThreads(line));
            if (_engine is not null && _loadedFor == wanted) return _engine;
            _engine?.Dispose();
            _engine = null;
            _engine = TrainCommand.LoadEngine(line);
            _loadedFor = wanted;
            return _engine;
        }

        public void Dispose() => _engine?.Dispose();
    }

    private sealed class OptionsComparer : IEqualityComparer<IReadOnlyDictionary<string, string>>
    {
        public bool Equals(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
            a is not null && b is not null && a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

        public int GetHashCode(IReadOnlyDictionary<string, string> d) => d.Count;
    }
}
