using System.Globalization;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Notebook;
using ActScale.Training;

namespace ActScale.Cli;

/// <summary>One option of an <c>actscale</c> subcommand, as help shows it.</summary>
internal sealed record CliOption(string Name, string Description, string? Default, bool Flag = false);

/// <summary>Where the model comes from (the magic <c>load</c>'s options).</summary>
internal sealed record LoadSettings(string? Model, string Device, string Dtype);

/// <summary>Which prompts to use (the magic <c>data</c>'s options; its <c>--seed</c> is <c>--data-seed</c> here).</summary>
internal sealed record DataSettings(string Task, int Train, int Test, int Seed);

/// <summary>
/// Every option the tool shares with the magics, and how its text becomes a value. Names, descriptions and defaults
/// are read from the notebook's <see cref="CommandCatalog"/> and <see cref="TrainingOptions"/>, and values are checked
/// by the same <see cref="Options"/> helpers, so both give the same defaults and the same messages.
/// This is the one file to replace by the library's shared option declarations once they exist.
/// </summary>
internal static class CliOptions
{
    /// <summary>The data command's --seed: renamed because train's --seed (the training seed) sits beside it.</summary>
    public const string DataSeed = "--data-seed";

    private static readonly string[] MethodNames = ["activscalar", "steervec", "dynscalar"];
    private static readonly TrainingOptions Defaults = new();

    public static IReadOnlyList<CliOption> Load { get; } = FromCatalog("load");

    public static IReadOnlyList<CliOption> Data { get; } = FromCatalog("data", ("--seed", DataSeed));

    /// <summary>train's options except --name, which the tool takes with --out.</summary>
    public static IReadOnlyList<CliOption> Train { get; } = FromCatalog("train").Where(o => o.Name != "--name").ToArray();

    public static CliOption Name { get; } = FromCatalog("train").Single(o => o.Name == "--name");

    public static CliOption Threads { get; } = new("--threads", "CPU threads torch may use; the same count gives bit-identical runs.", "1");

    /// <summary>Everything one training needs: model, prompts, training options and threads.</summary>
    public static IReadOnlyList<CliOption> Setting { get; } = [.. Load, .. Data, .. Train, Threads];

    public static LoadSettings ParseLoad(CommandLine line) =>
        new(string.IsNullOrWhiteSpace(line["--model"]) ? null : line["--model"]!.Trim(), line["--device"] ?? Default("load", "--device"), line["--dtype"] ?? Default("load", "--dtype"));

    public static DataSettings ParseData(CommandLine line) =>
        new(string.IsNullOrWhiteSpace(line["--task"]) ? Default("data", "--task") : line["--task"]!.Trim(),
            Options.Int(line["--train"], "--train", DefaultInt("data", "--train"), 1, 100_000),
            Options.Int(line["--test"], "--test", DefaultInt("data", "--test"), 0, 100_000),
            Options.Int(line[DataSeed], DataSeed, DefaultInt("data", "--seed")));

    public static InterventionMethod ParseMethod(string? text) =>
        Options.Choice(text, "--method", MethodNames[0], MethodNames) switch
        {
            "steervec" => InterventionMethod.SteerVec,
            "dynscalar" => InterventionMethod.DynScalar,
            _ => InterventionMethod.ActivScalar,
        };

    public static TrainingOptions ParseTraining(CommandLine line)
    {
        var method = ParseMethod(line["--method"]);
        var lr = line["--lr"];
        return Defaults with
        {
            Method = method,
            SiteKinds = ParseSites(line["--sites"]),
            Margin = Options.Double(line["--margin"], "--margin", Defaults.Margin, 0),
            LambdaF = Options.Double(line["--lambda-f"], "--lambda-f", Defaults.LambdaF, 0),
            LambdaM = Options.Double(line["--lambda-m"], "--lambda-m", Defaults.LambdaM, 0),
            Steps = Options.Int(line["--steps"], "--steps", Defaults.Steps, 0, 1_000_000),
            LearningRate = string.IsNullOrWhiteSpace(lr) ? null : Options.Double(lr, "--lr", TrainingOptions.DefaultLearningRate(method), double.Epsilon, 100),
            Seed = Options.Int(line["--seed"], "--seed", Defaults.Seed),
            BatchSize = Options.Int(line["--batch"], "--batch", Defaults.BatchSize, 1, 1_000_000),
        };
    }

    public static int ParseThreads(CommandLine line) => Options.Int(line[Threads.Name], Threads.Name, int.Parse(Threads.Default!, CultureInfo.InvariantCulture), 1, 1024);

    /// <summary>The run's name: --name, else the method's name (as the magic names it).</summary>
    public static string ParseName(CommandLine line, TrainingOptions options) =>
        string.IsNullOrWhiteSpace(line[Name.Name]) ? options.Method.ToString().ToLowerInvariant() : line[Name.Name]!.Trim();

    private static SiteKind[] ParseSites(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return TrainingOptions.DefaultSiteKinds;
        try
        {
            return Options.Split(text).Select(Site.ParseKind).Distinct().ToArray();
        }
        catch (ArgumentException e) { throw new UsageException("--sites: " + e.Message); }
    }

    private static CliOption[] FromCatalog(string subcommand, params (string From, string To)[] renames) =>
        CommandCatalog.Find(subcommand).Options.Select(o => new CliOption(
            renames.FirstOrDefault(r => r.From == o.Name).To ?? o.Name, o.Description, o.Default, o.Flag)).ToArray();

    private static string Default(string subcommand, string option) =>
        CommandCatalog.Find(subcommand).Options.Single(o => o.Name == option).Default
        ?? throw new InvalidOperationException($"The magic {subcommand} declares no default for {option}.");

    private static int DefaultInt(string subcommand, string option) => int.Parse(Default(subcommand, option), CultureInfo.InvariantCulture);
}
