using System.Diagnostics;
using System.Globalization;
using ActScale.Evaluation;
using ActScale.Model;
using ActScale.Tasks;
using ActScale.Tests.Support;
using ActScale.Training;
using Xunit.Abstractions;

namespace ActScale.Tests.Method;

/// <summary>
/// The CCC/IOI comparison table on a real model. Opt-in (it takes minutes): set ACTSCALE_EXPERIMENT_MODEL to a model
/// folder (or "random-default-shape" for a random model of the default model's shape, to time it) and
/// ACTSCALE_EXPERIMENT_OUT to a file for the table. Without the variable the test does nothing.
/// </summary>
public class DefaultModelExperiment(ITestOutputHelper output)
{
    [Fact]
    public void CompareMethodsOnCccAndIoi()
    {
        var which = Environment.GetEnvironmentVariable("ACTSCALE_EXPERIMENT_MODEL");
        if (string.IsNullOrEmpty(which)) return;
        using var folder = TinyCheckpoints.NewFolder();
        var path = which == "random-default-shape"
            ? TinyCheckpoints.WriteGpt2(folder.Path, new TinyCheckpoints.Gpt2Shape(Layers: 4, Width: 128, Heads: 4, Context: 64), seed: 7)
            : which;
        using var model = LanguageModel.Load(path, "auto");
        if (int.TryParse(Environment.GetEnvironmentVariable("ACTSCALE_THREADS"), out var threads)) TorchSharp.torch.set_num_threads(threads);
        int steps = int.Parse(Environment.GetEnvironmentVariable("ACTSCALE_EXPERIMENT_STEPS") ?? "200", CultureInfo.InvariantCulture);
        var lines = new List<string>
        {
            $"model: {model.Identity} ({which}) on {model.Device}; steps {steps}, lr {Environment.GetEnvironmentVariable("ACTSCALE_EXPERIMENT_LR") ?? "default"} (DynScalar lr/10), other options default",
            "task | method | split | β | prompts | flip acc | mean LD (clean) | KL | ℓ1 | params | non-trivial | train s",
            "---|---|---|---|---|---|---|---|---|---|---|---",
        };
        foreach (var taskName in new[] { "ccc", "ioi" })
        {
            var examples = TaskFile.Read(Path.Combine(RepoPaths.Data, "tasks", taskName + ".jsonl"));
            var clock = Stopwatch.StartNew();
            var baseOptions = new TrainingOptions { Steps = steps };
            Dictionary<ActScale.Interventions.InterventionMethod, TrainingOptions>? perMethod = null;
            if (double.TryParse(Environment.GetEnvironmentVariable("ACTSCALE_EXPERIMENT_LR"), NumberStyles.Float, CultureInfo.InvariantCulture, out var lr))
            {
                baseOptions = baseOptions with { LearningRate = lr };
                perMethod = new() { [ActScale.Interventions.InterventionMethod.DynScalar] = baseOptions with { LearningRate = lr / 10 } };
            }
            using var result = MethodComparison.Run(model, examples, baseOptions, namePrefix: taskName + " ", perMethod: perMethod);
            lines.Insert(1, $"{taskName}: {result.FilterNote}; total {clock.Elapsed.TotalSeconds:F0}s");
            foreach (var r in result.Rows)
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{taskName} | {r.Method} | {r.Split} | {r.Beta:+0;-0} | {r.Prompts} | {r.FlipAccuracy:F2} | {r.MeanLogitDifference:F2} ({r.CleanMeanLogitDifference:F2}) | {r.Kl:F3} | {r.L1:G3} | {r.ParameterCount} | {r.NonTrivialSites} | {r.TrainingSeconds:F1}"));
        }
        foreach (var line in lines) output.WriteLine(line);
        var outFile = Environment.GetEnvironmentVariable("ACTSCALE_EXPERIMENT_OUT");
        if (!string.IsNullOrEmpty(outFile)) File.WriteAllLines(outFile, lines);
    }
}
