using System.Diagnostics;
using System.Globalization;
using ActScale.Bench;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Runtime;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

// Prints speed figures; never a pass/fail. See bench/README.md for the cases and bench/compare for the PyTorch side.
// Two measurements that are not speed runs have their own first word: compare-methods MODEL ..., load-memory FOLDER; and
// sweep8 times an 8-setting sweep trained batched against 8 separate trainings (SweepBench.cs).
switch (args.FirstOrDefault())
{
    case "compare-methods": return CompareMethods.Run(args[1..], FindRepoRoot());
    case "load-memory": return LoadMemory.Run(args[1]);
    case "profile-step": return ProfileStep.Run(args[1..], FindRepoRoot());
    case "sweep8": return SweepBench.Run(args[1..], FindRepoRoot());
}
var options = BenchOptions.Parse(args);
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
Thread.CurrentThread.CurrentCulture = CultureInfo.InvariantCulture;
if (options.Threads > 0) set_num_threads(options.Threads);
var device = ComputeDevice.Resolve(options.Device, Console.Error.WriteLine);
var dtype = ComputeDevice.ResolveDType(options.DType, device);
Console.WriteLine($"# ActScale bench {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}, device {device}, dtype {options.DType}");

double matmulRate = MatmulRate(device, dtype);
Console.WriteLine($"# matmul 2048^3 {options.DType}: {matmulRate / 1e9:F1} GFLOP/s (the arithmetic limit for 'x of limit')");
Console.WriteLine("impl,model,layers,batch,length,case,median_ms,min_ms,max_ms,tokens_per_s,x_of_limit,peak_rss_mib,x_of_reduced_limit");
var tokenizer = Path.Combine(FindRepoRoot(), "data", "tokenizers", "gpt2");

foreach (var shape in options.Shapes)
foreach (var layers in options.LayerCounts(shape))
{
    string folder = shape == "default" ? ModelLocator.DefaultModelFolder() : RandomGpt2.Folder(shape, layers, RandomGpt2.Shapes[shape].Width, RandomGpt2.Shapes[shape].Heads, tokenizer);
    Measure.ResetPeak();
    var loadClock = Stopwatch.StartNew();
    using var model = LanguageModel.Load(folder, options.Device, options.DType);
    Emit(shape, model.Config.LayerCount, 0, 0, "load", [loadClock.Elapsed.TotalSeconds], double.NaN, double.NaN);
    foreach (var batch in options.Batches)
    foreach (var length in options.Lengths)
        RunCase(model, shape, batch, length);
}
return 0;

void RunCase(LanguageModel model, string shape, int batch, int length)
{
    int layers = model.Config.LayerCount, width = model.Config.Width;
    var examples = SyntheticPrompts.Make(model, batch, length);
    using var ids = tensor(examples.SelectMany(e => model.Tokenizer.Encode(e.Prompt).Select(i => (long)i)).ToArray(), [batch, length], device: model.Device);
    using var doubled = cat([ids, ids]);

    // Inference: the same doubled batch an evaluation or training step runs, without gradients.
    Measure.ResetPeak();
    var forward = Measure.Seconds(() =>
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var hidden = model.Transformer.Hidden(doubled);
        model.Transformer.Unembed(hidden[.., -1]).sum().@float().item<float>(); // logits are bfloat16 under --dtype bfloat16
    }, options.Repeats);
    double inferencePeak = Measure.PeakResidentMiB();
    Emit(shape, layers, batch, length, "forward", forward, RandomGpt2.ForwardFlops(layers, width, 2 * batch, length), inferencePeak, 2 * batch * length);

    foreach (var method in options.Methods)
    {
        using var task = PreparedTask.Prepare(model, examples, method.IsPositional, method.Name, batchSize: batch);
        var trainOptions = new TrainingOptions { Method = method, BatchSize = batch, Steps = 1, ReportEvery = 1 };
        Trainer.Train(model, task, trainOptions).Dispose(); // warm-up: first-call allocations and kernel selection
        Measure.ResetPeak();
        var steps = new double[options.Repeats];
        for (int r = 0; r < options.Repeats; r++)
        {
            // Timed from the end of the first step, which also computes the split's clean reference (once per training).
            int count = Math.Max(2, options.StepsPerRepeat);
            using var run = Trainer.Train(model, task, trainOptions with { Steps = count, ReportEvery = 1 });
            steps[r] = (run.History[^1].Elapsed - run.History[0].Elapsed).TotalSeconds / (count - 1);
        }
        Emit(shape, layers, batch, length, "train_" + method.ToString().ToLowerInvariant(), steps,
            RandomGpt2.TrainingStepFlops(layers, width, batch, length), Measure.PeakResidentMiB(), 2 * batch * length,
            RandomGpt2.ReducedTrainingStepFlops(layers, width, batch, length));
    }
}

// x_of_limit: the median time over the naive step's arithmetic at the matmul rate; x_of_reduced_limit: over what the step must compute.
void Emit(string shape, int layers, int batch, int length, string name, double[] seconds, double flops, double peakMiB, double tokens = double.NaN,
    double reducedFlops = double.NaN)
{
    double median = Measure.Median(seconds);
    double limit = double.IsNaN(flops) ? double.NaN : median / (flops / matmulRate);
    double reduced = double.IsNaN(reducedFlops) ? double.NaN : median / (reducedFlops / matmulRate);
    Console.WriteLine(string.Join(",", "actscale", shape, layers, batch, length, name, $"{median * 1000:F1}", $"{seconds.Min() * 1000:F1}",
        $"{seconds.Max() * 1000:F1}", double.IsNaN(tokens) ? "" : $"{tokens / median:F0}", double.IsNaN(limit) ? "" : $"{limit:F2}",
        double.IsNaN(peakMiB) ? "" : $"{peakMiB:F0}", double.IsNaN(reduced) ? "" : $"{reduced:F2}"));
}

static double MatmulRate(Device device, ScalarType dtype)
{
    using var a = randn(2048, 2048, dtype, device);
    using var b = randn(2048, 2048, dtype, device);
    var times = Measure.Seconds(() => { using var c = a.matmul(b); c[0, 0].@float().item<float>(); }, repeats: 10);
    // The fastest repeat: the machine's capability, which a busy neighbour can only lower.
    return 2.0 * 2048 * 2048 * 2048 / times.Min();
}

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "ActScale.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("Run the bench from inside the ActScale checkout.");
}
