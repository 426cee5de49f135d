using ActScale.Notebook;
using ActScale.Persistence;
using ActScale.Tasks;

namespace ActScale.Cli;

/// <summary>
/// <c>actscale</c>: the magics' train and evaluate from a shell, and sweeps that run anywhere (here, or one Slurm array
/// task per setting) and merge back into one table. Exit codes: 0 done, 1 failed, 2 bad usage, 3 merge found missing
/// settings, 130/143 interrupted (SIGINT/SIGTERM) after saving the best parameters so far.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: actscale train [options]            train one run (actscale train --help)
               actscale evaluate RUN [options]     evaluate a saved run on prompts
               actscale sweep plan|run|slurm|merge sweeps, locally or as a Slurm job array (actscale sweep --help)
               actscale report DIR                 the metrics of a run folder or a sweep folder
        """;

    public static int Main(string[] args)
    {
        using var interrupt = new Interrupt();
        var rest = args.Skip(1).ToArray();
        try
        {
            return args.FirstOrDefault() switch
            {
                "train" => TrainCommand.Run(rest, interrupt),
                "evaluate" => Evaluate(rest),
                "sweep" => SweepCommands.Run(rest, interrupt),
                "report" => Report(rest),
                null or "help" or "--help" or "-h" => Print(Usage, 0),
                var other => throw new UsageException($"actscale has no command '{other}'.\n{Usage}"),
            };
        }
        catch (UsageException e) { return Print("actscale: " + e.Message, 2, Console.Error); }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException
                                      or UnauthorizedAccessException or TaskDataException or ActScale.Runtime.DeviceOutOfMemoryException)
        {
            return Print("actscale: " + e.Message, 1, Console.Error);
        }
    }

    private static readonly MagicOption<string?> EvaluationOut = MagicOptions.Text("--out", "JSON file to write the metric rows to.", "none: the table is printed", "metrics.json");

    private static int Evaluate(IReadOnlyList<string> words)
    {
        const string usage = "actscale evaluate RUN_FOLDER|RUN.json [--model PATH] [--task ccc|ioi|ioi-abba|ioi-baba|FILE.jsonl] [--train N] [--test N] [--data-seed S]";
        IReadOnlyList<MagicOption> declared = [.. CliOptions.Load, .. CliOptions.Data, CliOptions.Threads, EvaluationOut];
        var line = CommandLine.Parse("actscale evaluate", words, declared);
        if (line.Help) return Help.Show(usage, "Evaluates a saved run on the train and test prompts the options choose.", declared);
        var path = line.RequirePositional("a saved run", usage);
        if (Directory.Exists(path)) path = RunFolder.RunPath(path);
        using var engine = TrainCommand.LoadEngine(line);
        var run = engine.LoadRun(path);
        using var task = engine.Prepare(engine.Prompts(CliOptions.ParseData(line)), run.Method);
        using var evaluated = engine.Evaluate(run, task);
        var metrics = evaluated.Metrics;
        if (line.Get(EvaluationOut) is { } file)
            File.WriteAllText(file, System.Text.Json.JsonSerializer.Serialize(metrics, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        Console.Out.Write(MetricsTable.Text(metrics));
        return 0;
    }

    private static int Report(IReadOnlyList<string> words)
    {
        const string usage = "actscale report DIR (a run folder from actscale train, or a sweep folder)";
        var line = CommandLine.Parse("actscale report", words, []);
        if (line.Help) return Help.Show(usage, "Prints the metrics of a run folder, or of every finished setting of a sweep.", []);
        var dir = line.RequirePositional("a run or sweep folder", usage);
        if (File.Exists(SweepFolder.PlanPath(dir)))
        {
            var merged = SweepMerge.Collect(dir);
            Console.Out.Write(MetricsTable.Text(merged.Rows.Select(r => r.Metric)));
            Console.Out.WriteLine($"{merged.Plan.Count - merged.Missing.Count} of {merged.Plan.Count} settings finished");
            return 0;
        }
        var result = RunFolder.ReadResult(dir)
            ?? throw new UsageException($"'{dir}' is neither a run folder (no {Path.GetFileName(RunFolder.ResultPath(dir))}) nor a sweep folder (no {SweepFolder.PlanFile}).");
        Console.Out.Write(MetricsTable.Text(result.Metrics));
        if (!result.Complete) Console.Out.WriteLine($"interrupted after {result.StepsCompleted} steps (the best parameters seen were saved)");
        return 0;
    }

    private static int Print(string text, int code, TextWriter? writer = null)
    {
        (writer ?? Console.Out).WriteLine(text);
        return code;
    }
}
