using ActScale.Notebook;
using ActScale.Training;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Cli;

/// <summary>Where the model comes from (the magic <c>load</c>'s options).</summary>
internal sealed record LoadSettings(string? Model, string Device, string Dtype);

/// <summary>Which prompts to use (the magic <c>data</c>'s options; its <c>--seed</c> is <c>--data-seed</c> here).</summary>
internal sealed record DataSettings(string Task, int Train, int Test, int Seed);

/// <summary>
/// The tool's options: the magics' own declarations (<see cref="CommandCatalog"/>), so names, help, defaults, ranges and
/// messages are the same in both, plus the few that only a command line needs.
/// </summary>
internal static class CliOptions
{
    /// <summary>The data command's --seed, renamed because train's --seed (the training seed) sits beside it.</summary>
    public static MagicOption<int> DataSeed { get; } = MagicOptions.Int("--data-seed", DataArgs.Seed.Help, DataArgs.Seed.Read(null));

    public static IReadOnlyList<MagicOption> Load { get; } = Find("load").Options;

    public static IReadOnlyList<MagicOption> Data { get; } = [DataArgs.Task with { Positional = false }, DataArgs.Train, DataArgs.Test, DataSeed];

    /// <summary>train's options except --name, which the tool takes beside --out.</summary>
    public static IReadOnlyList<MagicOption> Train { get; } = Find("train").Options.Where(o => o != TrainArgs.Name).ToArray();

    public static MagicOption<string?> Name => TrainArgs.Name;

    public static MagicOption<int> Threads { get; } = MagicOptions.Int("--threads", "CPU threads torch may use; the same count gives bit-identical runs.", 1, 1, 1024);

    /// <summary>Everything one training needs: model, prompts, training options and threads.</summary>
    public static IReadOnlyList<MagicOption> Setting { get; } = [.. Load, .. Data, .. Train, Threads];

    public static LoadSettings ParseLoad(CommandLine line) =>
        new(line.Get(LoadArgs.Model), line.Get(LoadArgs.Device), line.Get(LoadArgs.Dtype));

    public static DataSettings ParseData(CommandLine line) =>
        new(line.Get(DataArgs.Task), line.Get(DataArgs.Train), line.Get(DataArgs.Test), line.Get(DataSeed));

    public static TrainingOptions ParseTraining(CommandLine line) => TrainingOptionsReader.Read(line, TrainingOptionsReader.ReadLoss(line));

    public static int ParseThreads(CommandLine line) => line.Get(Threads);

    /// <summary>The run's name: --name, else the method's name (as the magic names it).</summary>
    public static string ParseName(CommandLine line, TrainingOptions options) => line.Get(Name) ?? options.Method.Name.ToLowerInvariant();
}
