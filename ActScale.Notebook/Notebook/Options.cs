using System.Globalization;

namespace ActScale.Notebook;

/// <summary>A mistake in what the user typed: shown as the failed command's message, never as a stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Turns option text into values, with messages that name the option and say what to type.</summary>
public static class Options
{
    public static bool Flag(string? value) =>
        value is not null && !value.Equals("false", StringComparison.OrdinalIgnoreCase);

    public static int Int(string? value, string option, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        if (!int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            throw new UsageException($"{option} needs a whole number, not '{value}'. Example: {option} {fallback}");
        if (parsed < min || parsed > max)
            throw new UsageException($"{option} must be {Range(min, max)}; got {parsed}.");
        return parsed;
    }

    public static double Double(string? value, string option, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        if (!double.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) || !double.IsFinite(parsed))
            throw new UsageException($"{option} needs a number, not '{value}'. Example: {option} {fallback.ToString(CultureInfo.InvariantCulture)}");
        if (parsed < min || parsed > max)
            throw new UsageException($"{option} must be {Range(min, max)}; got {parsed.ToString(CultureInfo.InvariantCulture)}.");
        return parsed;
    }

    public static IReadOnlyList<double> Doubles(string? value, string option)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new UsageException($"{option} needs a comma-separated list of numbers, e.g. {option} 0,0.01,0.1");
        return Split(value).Select(v => Double(v, option, 0)).ToArray();
    }

    public static string Choice(string? value, string option, string fallback, params string[] allowed)
    {
        var word = string.IsNullOrWhiteSpace(value) ? fallback : value.Trim().ToLowerInvariant();
        if (!allowed.Contains(word))
            throw new UsageException($"{option} must be one of {string.Join(", ", allowed)}; got '{value}'.");
        return word;
    }

    public static string[] Split(string value) =>
        value.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
             .Select(v => v.Trim('[', ']', '"', '\''))
             .Where(v => v.Length > 0)
             .ToArray();

    private static string Range(double min, double max) =>
        (double.IsInfinity(min) || min == int.MinValue, double.IsInfinity(max) || max == int.MaxValue) switch
        {
            (false, false) => $"between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}",
            (false, true) => $"at least {min.ToString(CultureInfo.InvariantCulture)}",
            (true, false) => $"at most {max.ToString(CultureInfo.InvariantCulture)}",
            _ => "a number",
        };
}
