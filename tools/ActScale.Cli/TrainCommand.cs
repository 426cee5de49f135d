using ActScale.Notebook;
using ActScale.Persistence;

namespace ActScale.Cli;

/// <summary><c>actscale train</c>: one run, written as a run folder (saved run + metrics).</summary>
internal static class TrainCommand
{
    public static MagicOption<string?> Out { get; } = MagicOptions.Text("--out", "Folder to write the run to (run.json, metrics.json).", "runs/NAME", "runs/activscalar");

    public static IReadOnlyList<MagicOption> Declared { get; } = [.. CliOptions.Setting, CliOptions.Name, Out];

    public const string Usage = "actscale train [--model PATH] [--task ccc|ioi|ioi-abba|ioi-baba|FILE.jsonl] [--method M] [--lambda-m X] ... [--out DIR]";

    public static int Run(IReadOnlyList<string> words, Interrupt interrupt)
    {
        var line = CommandLine.Parse("actscale train", words, Declared);
        if (line.Help) return Help.Show(Usage, "Trains one intervention and writes it as a saved run plus its metrics.", Declared);
        if (line.Positional.Count > 0) throw new UsageException($"actscale train takes options only, not '{string.Join(" ", line.Positional)}': {Usage}");
        var options = CliOptions.ParseTraining(line);
        var dir = line.Get(Out) ?? Path.Combine("runs", CliOptions.ParseName(line, options));
        using var engine = LoadEngine(line);
        var complete = TrainInto(line, dir, engine, interrupt);
        return complete ? 0 : interrupt.ExitCode;
    }

    /// <summary>
    /// Trains the run the options describe and writes it to <paramref name="dir"/>, interrupted or not; returns whether
    /// training ran to the end.
    /// </summary>
    public static bool TrainInto(CommandLine line, string dir, Engine engine, Interrupt interrupt)
    {
        var options = CliOptions.ParseTraining(line);
        var name = CliOptions.ParseName(line, options);
        var data = CliOptions.ParseData(line);
        using var task = engine.Prepare(engine.Prompts(data), options.Method);
        var progress = ConsoleProgress.ForStandardError(name);
        using var trained = engine.Train(task, options, name, progress, interrupt.Token);
        var run = trained.Run;
        if (run.Cancelled) progress.Finish();
        var path = RunFolder.Write(dir, run, Engine.Result(trained));
        Console.Error.WriteLine(run.Cancelled
            ? $"{name}: interrupted after {run.StepsCompleted} of {options.Steps} steps; saved the best parameters seen to {path}"
            : $"{name}: done in {run.TrainingTime.TotalSeconds:F1} s; saved to {path}");
        Console.Out.Write(MetricsTable.Text(trained.Metrics));
        return !run.Cancelled;
    }

    /// <summary>The model the options name, with torch's thread count set as they say.</summary>
    public static Engine LoadEngine(CommandLine line) =>
        Engine.Load(CliOptions.ParseLoad(line), n => Console.Error.WriteLine(n), CliOptions.ParseThreads(line));
}
