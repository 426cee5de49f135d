namespace ActScale.Tasks;

/// <summary>
/// The rule of the positional methods (ActivScalar, SteerVec): their parameters are tied to token positions, so they
/// train on prompts of one layout (<see cref="PromptLayout"/>: one length, each template slot on the same tokens) and apply
/// only to prompts of that length. Every place that needs the rule asks here, so it is stated once and worded once.
/// </summary>
public static class PromptLayoutRule
{
    /// <summary>
    /// Null when prompts of <paramref name="lengths"/> tokens suit positional method <paramref name="method"/> tied to
    /// <paramref name="trainedLength"/> (null before training: the lengths need only agree); otherwise the message,
    /// naming <paramref name="what"/> (e.g. "the task", "split 'test'").
    /// </summary>
    public static string? Violation(string method, int? trainedLength, IEnumerable<int> lengths, string what)
    {
        var counts = lengths.GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => (Length: g.Key, Count: g.Count())).ToArray();
        bool fits = trainedLength is int n ? counts.All(c => c.Length == n) : counts.Length <= 1;
        if (fits) return null;
        var found = string.Join(", ", counts.Select(c => counts.Length == 1 && c.Count == 1 ? $"{c.Length} tokens" : $"{c.Length} tokens ({c.Count} prompts)"));
        var required = trainedLength is int t ? $"its training length of {t} tokens" : "one length";
        return $"{method} ties its parameters to token positions, so every prompt must have {required}, but {what} has {found}. " +
               KeepOneLayoutAdvice;
    }

    /// <summary>
    /// Null when every prompt of equal length also has one <see cref="PromptLayout"/>; otherwise the message: a positional
    /// parameter would scale a country in one prompt and " of" in another.
    /// </summary>
    public static string? LayoutViolation(string method, IEnumerable<PromptLayout> layouts, string what)
    {
        var counts = layouts.GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Slots, StringComparer.Ordinal).ToArray();
        if (counts.Length <= 1) return null;
        var found = string.Join("; ", counts.Take(4).Select(g => $"{g.Key} ({g.Count()} prompts)")) + (counts.Length > 4 ? $"; and {counts.Length - 4} more" : "");
        return $"{method} ties its parameters to token positions, so every prompt must have one token layout (each template slot on the same " +
               $"tokens), but {what} has {counts.Length} layouts: {found}. Slot fillers of one token after a space keep one layout. " + KeepOneLayoutAdvice;
    }

    private const string KeepOneLayoutAdvice =
        "Use DynScalar, which works for any length, or keep one layout with TaskValidator.KeepOneLayout(examples, tokenizer).";

    /// <summary>Throws a <see cref="TaskDataException"/> with <see cref="Violation"/>'s message when there is one.</summary>
    public static void Check(string method, int? trainedLength, IEnumerable<int> lengths, string what)
    {
        if (Violation(method, trainedLength, lengths, what) is string message) throw new TaskDataException(message);
    }
}
