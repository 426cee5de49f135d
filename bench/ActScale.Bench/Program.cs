using ActScale.Bench;
using ActScale.Runtime;
using static TorchSharp.torch;

// Prints speed figures; never a pass/fail. Usage: dotnet run -c Release --project bench/ActScale.Bench [-- --shape small --batch 8 --length 32 --repeats 5]
var options = Options.Parse(args);
TorchNativeLoader.EnsureLoadable();
var device = ComputeDevice.Resolve(options.Device, Console.WriteLine);
Console.WriteLine($"ActScale bench — {DateTime.UtcNow:yyyy-MM-dd} — {Environment.ProcessorCount} cores, torch threads {get_num_threads()}, device {device}");

double matmulRate = MatmulRate(device);
Console.WriteLine($"matmul 2048³ float32: {matmulRate / 1e9:F1} GFLOP/s (the arithmetic limit used below)");

var (layers, width, heads) = RandomGpt2.Shapes[options.Shape];
using var model = RandomGpt2.Build(layers, width, heads, device);
using var ids = randint(0, 50257, [options.Batch, options.Length], dtype: ScalarType.Int64, device: device);

var forward = Measure.Seconds(() =>
{
    using var _ = no_grad();
    using var scope = NewDisposeScope();
    var hidden = model.Hidden(ids);
    model.Unembed(hidden[.., -1]).sum().item<float>();
}, options.Repeats);
double flops = RandomGpt2.ForwardFlops(layers, width, options.Batch, options.Length, 50257, allPositionsToVocabulary: false);
double median = Measure.Median(forward);
Console.WriteLine($"forward GPT-2-{options.Shape} batch {options.Batch}×{options.Length}: median {median * 1000:F0} ms (min {forward.Min() * 1000:F0}, max {forward.Max() * 1000:F0}), " +
                  $"{options.Batch * options.Length / median:F0} tokens/s, {flops / median / 1e9:F1} GFLOP/s, {median / (flops / matmulRate):F2}× of limit, peak RSS {Measure.PeakResidentMiB():F0} MiB");

static double MatmulRate(Device device)
{
    using var a = randn(2048, 2048, device: device);
    using var b = randn(2048, 2048, device: device);
    var times = Measure.Seconds(() => { using var c = a.matmul(b); c[0, 0].item<float>(); }, repeats: 5);
    return 2.0 * 2048 * 2048 * 2048 / times.Min();
}

sealed record Options(string Shape, int Batch, int Length, int Repeats, string Device)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        return new(Get("--shape", "small"), int.Parse(Get("--batch", "8")), int.Parse(Get("--length", "32")),
            int.Parse(Get("--repeats", "5")), Get("--device", "auto"));
    }
}
