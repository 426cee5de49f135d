using System.Globalization;
using ActScale.Training;

namespace ActScale.Results;

/// <summary>The command line of the results tool; every training option is the library default unless --steps is given.</summary>
internal sealed record ResultsOptions(string Model, string Lists, int Seeds, TrainingOptions Training, string Out, string CsvFolder,
    double[] LambdaM, double[] LambdaF)
{
    public static ResultsOptions Parse(string[] args)
    {
        var root = RepoRoot();
        string Get(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            if (i < 0) return fallback;
            if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value.");
            return args[i + 1];
        }
        var unknown = args.Where((a, i) => a.StartsWith("--") && a is not ("--model" or "--seeds" or "--steps" or "--out" or "--csv")).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException($"Unknown option {unknown[0]}; the options are --model DIR, --seeds N, --steps N, --out FILE, --csv DIR.");
        var training = new TrainingOptions();
        if (Get("--steps", "") is { Length: > 0 } steps) training = training with { Steps = int.Parse(steps, CultureInfo.InvariantCulture) };
        int seeds = int.Parse(Get("--seeds", "3"), CultureInfo.InvariantCulture);
        if (seeds < 1) throw new ArgumentException($"--seeds must be at least 1; got {seeds}.");
        return new ResultsOptions(
            Get("--model", Path.Combine(root, "data", "models", "actscale-capitals-ioi")), Path.Combine(root, "data", "lists"), seeds, training,
            Get("--out", Path.Combine(root, "docs", "results-default-model.md")), Get("--csv", Path.Combine(root, "docs", "results")),
            [0, 1e-3, 1e-1], [0, 1, 10]);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ActScale.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"Run the results tool from inside the ActScale repository (no ActScale.sln above {Environment.CurrentDirectory}).");
    }
}
