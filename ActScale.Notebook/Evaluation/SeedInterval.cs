using System.Globalization;

namespace ActScale.Evaluation;

/// <summary>
/// The mean of one metric over seeds with its 95% Student-t interval, mean ± t(0.975, n − 1)·s/√n: with 3 seeds the
/// half-width is 2.48 standard deviations, so a difference smaller than that is not shown by the data.
/// </summary>
public sealed record SeedInterval(double Mean, double HalfWidth, int Seeds)
{
    // t(0.975, df) for df = 1..10; beyond that the normal 1.96 is within 5%.
    private static readonly double[] T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

    /// <summary>The interval of <paramref name="values"/> (one per seed; NaN values are left out). One value has no interval (NaN half-width).</summary>
    public static SeedInterval Of(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).ToArray();
        if (v.Length == 0) return new SeedInterval(double.NaN, double.NaN, 0);
        double mean = v.Average();
        if (v.Length == 1) return new SeedInterval(mean, double.NaN, 1);
        double sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        double t = v.Length - 1 <= T975.Length ? T975[v.Length - 2] : 1.96;
        return new SeedInterval(mean, t * sd / Math.Sqrt(v.Length), v.Length);
    }

    /// <summary>"0.81 ± 0.05" (or just the mean when there is no interval) with <paramref name="format"/> for both numbers.</summary>
    public string ToString(string format) => double.IsNaN(HalfWidth)
        ? Mean.ToString(format, CultureInfo.InvariantCulture)
        : $"{Mean.ToString(format, CultureInfo.InvariantCulture)} ± {HalfWidth.ToString(format, CultureInfo.InvariantCulture)}";

    public override string ToString() => ToString("F2");
}
