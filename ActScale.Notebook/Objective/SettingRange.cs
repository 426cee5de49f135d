using System.Globalization;

namespace ActScale.Objective;

/// <summary>
/// The values a numeric setting may take, declared once next to the setting. The library checks options and loss
/// settings with it, and the notebook's option declarations read their limits from it, so the API and the magics refuse
/// the same values with the same words. A non-finite value is always refused.
/// </summary>
public sealed record SettingRange(string Name, double Min, double Max, bool MinExclusive = false)
{
    /// <summary>Why the limits are where they are (e.g. how they were measured); appended to the refusal.</summary>
    public string? Reason { get; init; }

    public bool Contains(double value) =>
        double.IsFinite(value) && (MinExclusive ? value > Min : value >= Min) && value <= Max;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the setting when <paramref name="value"/> is outside the range.</summary>
    public void Check(double value)
    {
        if (Contains(value)) return;
        var must = double.IsFinite(value) ? Describe() : $"a finite number {Describe()}";
        throw new ArgumentException($"{Name} must be {must}; got {Show(value)}.{(Reason is null ? "" : " " + Reason)}");
    }

    /// <summary>"≥ 0", "> 0 and ≤ 1", …</summary>
    public string Describe()
    {
        var low = double.IsNegativeInfinity(Min) ? null : (MinExclusive ? "> " : "≥ ") + Show(Min);
        var high = double.IsPositiveInfinity(Max) ? null : "≤ " + Show(Max);
        return low is null ? high ?? "finite" : high is null ? low : $"{low} and {high}";
    }

    private static string Show(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
