using System.Diagnostics;
using ActScale.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActScale.Tests.Model;

/// <summary>
/// Not a regular test: loads the checkpoint folder named by ACTSCALE_MEASURE_LOAD (e.g. a synthetic BF16
/// Llama-1B shape in /tmp) in float32 on the CPU and reports the process's peak resident memory (VmHWM).
/// </summary>
public class LoadMemoryMeasurement(ITestOutputHelper output)
{
    public sealed class MeasureFactAttribute : FactAttribute
    {
        public MeasureFactAttribute()
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ACTSCALE_MEASURE_LOAD")))
                Skip = "A measurement, not a test: set ACTSCALE_MEASURE_LOAD=FOLDER to load that checkpoint and report VmHWM.";
        }
    }

    private static string Status(string key) =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key + ":"))?.Split(':', 2)[1].Trim() ?? "?";

    [MeasureFact]
    public void PeakResidentMemoryOfAFloat32CpuLoad()
    {
        var folder = Environment.GetEnvironmentVariable("ACTSCALE_MEASURE_LOAD")!;
        ActScale.Runtime.TorchNativeLoader.EnsureLoadable();
        output.WriteLine($"before load: VmHWM {Status("VmHWM")}, VmRSS {Status("VmRSS")}");
        var read = CheckpointReader.Read(folder);
        output.WriteLine($"CheckpointReader.Read alone: VmRSS {Status("VmRSS")}, VmHWM {Status("VmHWM")} ({read.Count} tensors)");
        foreach (var stored in read.Values) stored.Dispose();
        output.WriteLine($"after disposing it: VmRSS {Status("VmRSS")}");
        var clock = Stopwatch.StartNew();
        using var model = LanguageModel.Load(folder, "cpu");
        output.WriteLine($"loaded {model.Identity} in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"after load: VmHWM {Status("VmHWM")}, VmRSS {Status("VmRSS")}");
        using var ids = tensor(new long[] { 1, 2, 3, 4 }).unsqueeze(0);
        using var logits = model.Transformer.Logits(ids);
        output.WriteLine($"after a 4-token forward: VmHWM {Status("VmHWM")}, VmRSS {Status("VmRSS")}; logits finite: {logits.isfinite().all().item<bool>()}");
    }
}
