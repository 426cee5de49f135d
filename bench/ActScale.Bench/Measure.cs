using System.Diagnostics;

namespace ActScale.Bench;

public static class Measure
{
    /// <summary>Runs <paramref name="action"/> after warm-ups and returns each repeat's seconds.</summary>
    public static double[] Seconds(Action action, int repeats, int warmups = 1)
    {
        for (int i = 0; i < warmups; i++) action();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalSeconds;
        }
        return times;
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Resets the kernel's peak-RSS mark (Linux ≥ 4.0), so the next <see cref="PeakResidentMiB"/> covers one phase.</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    /// <summary>Peak resident set size (VmHWM) since the last reset, in MiB.</summary>
    public static double PeakResidentMiB() => StatusMiB("VmHWM:");

    private static double StatusMiB(string key) =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith(key))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).First();
}
