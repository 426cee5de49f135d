using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Bench;

/// <summary>
/// <c>sweep8 [--shapes default,small] [--steps 10] [--rounds 3] [--batch N] [--threads N] [--device auto]</c>: an 8-setting
/// ActivScalar sweep over λ_M on the CCC task's training prompts (one token layout), trained as 8 separate trainings
/// and as one batched training (<see cref="BatchedTrainer"/>), alternating in each round. Prints both as CSV rows
/// (milliseconds per whole sweep) and their ratio. Minibatches: 32 prompts on the default model, 8 on the GPT-2 Small
/// shape (8 settings × 8 prompts × β = ±1 keeps the batched step's activations near 1.4 GB). Each shape's prompts,
/// answers and settings are written to actscale-bench/sweep8-SHAPE.json for bench/pytorch_sweep.py.
/// </summary>
public static class SweepBench
{
    /// <summary>The λ_M values swept: 0 and seven steps of about ×3 around the default 1e-3.</summary>
    private static readonly double[] LambdaM = [0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];

    private static readonly Dictionary<string, double> Targets = new() { ["default"] = 0.35, ["small"] = 0.95 };

    public static int Run(string[] args, string repoRoot)
    {
        string? Get(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int Int(string name, int fallback) => Get(name) is string text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
        var shapes = (Get("--shapes") ?? "default,small").Split(',', StringSplitOptions.RemoveEmptyEntries);
        int steps = Int("--steps", 10), rounds = Int("--rounds", 3), threads = Int("--threads", 0);
        if (threads > 0) set_num_threads(threads);
        var examples = TaskFile.Read(Path.Combine(repoRoot, "data", "tasks", "ccc.jsonl")).Where(e => e.Split == PromptExample.Train).ToArray();
        Console.WriteLine($"# ActScale sweep8 {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}, load {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("impl,model,layers,batch,length,case,median_ms,min_ms,max_ms,tokens_per_s,x_of_limit,peak_rss_mib");
        foreach (var shape in shapes)
        {
            string folder = shape == "default" ? ModelLocator.DefaultModelFolder()
                : RandomGpt2.Folder(shape, RandomGpt2.Shapes[shape].Layers, RandomGpt2.Shapes[shape].Width, RandomGpt2.Shapes[shape].Heads,
                    Path.Combine(repoRoot, "data", "tokenizers", "gpt2"));
            using var model = LanguageModel.Load(folder, Get("--device") ?? "auto");
            var (task, _) = PreparedTask.PrepareFor(model, examples, InterventionMethod.ActivScalar);
            using var _task = task;
            var baseOptions = new TrainingOptions { Steps = steps, BatchSize = Int("--batch", shape == "default" ? 32 : 8), ReportEvery = steps };
            var settings = LambdaM.Select(m => baseOptions with { Loss = baseOptions.Loss with { LambdaM = m } }).ToArray();
            Export(shape, folder, model, task, settings);
            var (sequential, batched) = Time(model, task, settings, rounds);
            string Row(string name, double[] seconds) => string.Join(",", "actscale", shape, model.Config.LayerCount, baseOptions.BatchSize,
                task.PromptLength, name, Ms(Measure.Median(seconds)), Ms(seconds.Min()), Ms(seconds.Max()), "", "", "");
            Console.WriteLine(Row("sweep8_sequential", sequential));
            Console.WriteLine(Row("sweep8_batched", batched));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# sweep8 {shape}: {task.Train.Count} prompts, {steps} steps: batched / 8 sequential = {Measure.Median(batched) / Measure.Median(sequential):F2}x (target <= {Targets.GetValueOrDefault(shape, 1.0)}), per round {string.Join(" ", batched.Zip(sequential, (b, s) => (b / s).ToString("F2", CultureInfo.InvariantCulture)))}"));
        }
        return 0;
    }

    /// <summary>Seconds of each round's 8 separate trainings and of its one batched training, after one warm-up of each.</summary>
    private static (double[] Sequential, double[] Batched) Time(LanguageModel model, PreparedTask task, TrainingOptions[] settings, int rounds)
    {
        void Sequential(TrainingOptions[] s) { foreach (var o in s) Trainer.Train(model, task, o).Dispose(); }
        void Batched(TrainingOptions[] s) { foreach (var outcome in BatchedTrainer.Train(model, task, s)) outcome.Run?.Dispose(); }
        var warmup = settings.Select(o => o with { Steps = 1, ReportEvery = 1 }).ToArray();
        Sequential(warmup);
        Batched(warmup);
        var sequential = new double[rounds];
        var batched = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            // Alternating which goes first spreads a neighbour's load over both.
            var clock = Stopwatch.StartNew();
            if (r % 2 == 0) { Sequential(settings); sequential[r] = clock.Elapsed.TotalSeconds; clock.Restart(); Batched(settings); batched[r] = clock.Elapsed.TotalSeconds; }
            else { Batched(settings); batched[r] = clock.Elapsed.TotalSeconds; clock.Restart(); Sequential(settings); sequential[r] = clock.Elapsed.TotalSeconds; }
        }
        return (sequential, batched);
    }

    /// <summary>Writes what bench/pytorch_sweep.py needs to train the same sweep: the checkpoint, token ids, answers and settings.</summary>
    private static void Export(string shape, string folder, LanguageModel model, PreparedTask task, TrainingOptions[] settings)
    {
        var train = task.Train;
        var first = settings[0];
        var data = new
        {
            folder = Path.GetFullPath(folder),
            ids = train.Tokens,
            correct = train.Correct.cpu().data<long>().ToArray(),
            wrong = train.Wrong.cpu().data<long>().ToArray(),
            lambda_m = settings.Select(o => o.Loss.LambdaM).ToArray(),
            lambda_f = first.Loss.LambdaF,
            margin = first.Loss.Margin,
            lr = first.LearningRate,
            steps = first.Steps,
            batch = Math.Min(first.BatchSize, train.Count),
            layers = model.Config.LayerCount,
        };
        var path = Path.Combine(Path.GetTempPath(), "actscale-bench", $"sweep8-{shape}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, JsonSerializer.Serialize(data));
        Console.WriteLine($"# sweep8 {shape}: wrote {path}");
    }

    private static string Ms(double seconds) => (seconds * 1000).ToString("F1", CultureInfo.InvariantCulture);
}
