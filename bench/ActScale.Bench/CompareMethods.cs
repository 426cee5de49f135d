using System.Diagnostics;
using System.Globalization;
using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Tasks;
using ActScale.Training;

namespace ActScale.Bench;

/// <summary>
/// <c>compare-methods MODEL [--steps N] [--lr R] [--out FILE]</c>: the CCC/IOI comparison table of
/// docs/results-default-model.md on a model folder ("random-default-shape": random weights of the default model's shape,
/// to time it). DynScalar trains at lr/10 when --lr is given. Prints a markdown table; takes minutes.
/// </summary>
public static class CompareMethods
{
    public static int Run(string[] args, string repoRoot)
    {
        string? Get(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var which = args.FirstOrDefault() ?? throw new ArgumentException("compare-methods needs a model folder (or random-default-shape).");
        var path = which == "random-default-shape"
            ? RandomGpt2.Folder("default-shape", 4, 128, 4, Path.Combine(repoRoot, "data", "tokenizers", "gpt2"), context: 64)
            : which;
        using var model = LanguageModel.Load(path, "auto");
        int steps = int.Parse(Get("--steps") ?? "200", CultureInfo.InvariantCulture);
        double? lr = Get("--lr") is string text ? double.Parse(text, CultureInfo.InvariantCulture) : null;
        var lines = new List<string>
        {
            $"model: {model.Identity} ({which}) on {model.Device}; steps {steps}, lr {(lr is null ? "default" : lr)} (DynScalar lr/10), other options default",
            "task | method | split | β | prompts | flip acc | mean LD (clean) | KL | ℓ1 | params | non-trivial | train s",
            "---|---|---|---|---|---|---|---|---|---|---|---",
        };
        foreach (var taskName in new[] { "ccc", "ioi" })
        {
            var examples = TaskFile.Read(Path.Combine(repoRoot, "data", "tasks", taskName + ".jsonl"));
            var clock = Stopwatch.StartNew();
            var baseOptions = new TrainingOptions { Steps = steps };
            Dictionary<InterventionMethod, TrainingOptions>? perMethod = null;
            if (lr is double rate)
            {
                baseOptions = baseOptions with { LearningRate = rate };
                perMethod = new() { [InterventionMethod.DynScalar] = baseOptions with { LearningRate = rate / 10 } };
            }
            using var result = MethodComparison.Run(model, examples, baseOptions, namePrefix: taskName + " ", perMethod: perMethod);
            lines.Insert(1, $"{taskName}: {result.FilterNote}; total {clock.Elapsed.TotalSeconds:F0}s");
            foreach (var r in result.Rows)
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{taskName} | {r.Method} | {r.Split} | {r.Beta:+0;-0} | {r.Prompts} | {r.FlipAccuracy:F2} | {r.MeanLogitDifference:F2} ({r.CleanMeanLogitDifference:F2}) | {r.Kl:F3} | {r.L1:G3} | {r.ParameterCount} | {r.NonTrivialSites} | {r.TrainingSeconds:F1}"));
        }
        foreach (var line in lines) Console.WriteLine(line);
        if (Get("--out") is string outFile) File.WriteAllLines(outFile, lines);
        return 0;
    }
}
