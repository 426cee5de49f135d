using System.Diagnostics;
using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Bench;

/// <summary>
/// <c>load-memory FOLDER</c>: loads a checkpoint folder (e.g. a synthetic BF16 Llama-1B shape) in float32 on the CPU and
/// prints the process's peak resident memory (VmHWM) after each stage, for the README's loading figures.
/// </summary>
public static class LoadMemory
{
    private static string Status(string key) =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key + ":"))?.Split(':', 2)[1].Trim() ?? "?";

    public static int Run(string folder)
    {
        Console.WriteLine($"before load: VmHWM {Status("VmHWM")}, VmRSS {Status("VmRSS")}");
        var read = CheckpointReader.Read(folder);
        Console.WriteLine($"CheckpointReader.Read alone: VmRSS {Status("VmRSS")}, VmHWM {Status("VmHWM")} ({read.Count} tensors)");
        foreach (var stored in read.Values) stored.Dispose();
        Console.WriteLine($"after disposing it: VmRSS {Status("VmRSS")}");
        var clock = Stopwatch.StartNew();
        using var model = LanguageModel.Load(folder, "cpu");
        Console.WriteLine($"loaded {model.Identity} in {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"after load: VmHWM {Status("VmHWM")}, VmRSS {Status("VmRSS")}");
        using var ids = tensor(new long[] { 1, 2, 3, 4 }).unsqueeze(0);
        using var logits = model.Transformer.Logits(ids);
        Console.WriteLine($"after a 4-token forward: VmHWM {Status("VmHWM")}, VmRSS {Status("VmRSS")}; logits finite: {logits.isfinite().all().item<bool>()}");
        return 0;
    }
}
