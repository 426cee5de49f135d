using ActScale.Model;

namespace ActScale.Tasks;

/// <summary>
/// Checks task data against a model's tokenizer before any training, and gathers every problem it finds (up to
/// <see cref="MaxReported"/>) into one <see cref="TaskDataException"/> whose lines say what to change.
/// </summary>
public static class TaskValidator
{
    public const int MaxReported = 8;

    /// <summary>
    /// Throws when the set is empty, a split in <paramref name="requiredSplits"/> is missing, an answer is not a single
    /// token, correct equals wrong, a prompt is empty or exceeds the context, or (when <paramref name="samePromptLength"/>,
    /// for the positional methods) the prompts do not all tokenize to one length and one <see cref="PromptLayout"/>.
    /// </summary>
    public static void Validate(IReadOnlyList<PromptExample> examples, TextTokenizer tokenizer, int contextLength,
        bool samePromptLength, string methodName = "this method", IEnumerable<string>? requiredSplits = null)
    {
        if (examples.Count == 0)
            throw new TaskDataException("The task has no prompts. Load a task file with prompts, or check the filter that produced this set.");
        var problems = new List<string>();
        int extra = 0;
        void Problem(string message)
        {
            if (problems.Count < MaxReported) problems.Add(message);
            else extra++;
        }
        var splits = examples.Select(e => e.Split).Distinct().ToArray();
        foreach (var required in requiredSplits ?? [PromptExample.Train])
            if (!splits.Contains(required))
                Problem($"No prompt has split \"{required}\"; splits found: {string.Join(", ", splits.Select(s => $"\"{s}\""))}.");

        var lengths = new List<int>();
        var layouts = new List<PromptLayout>();
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            var where = $"Prompt #{i + 1} \"{Shorten(e.Prompt)}\"";
            if (tokenizer.MinimumTokenCount(e.Prompt) is var least && least > contextLength)
            {
                // Not tokenised: it cannot fit, and tokenising text without spaces takes time that grows faster than its length.
                Problem($"{where} has at least {least} tokens but the model's context holds {contextLength}. Shorten it.");
                continue;
            }
            var promptIds = tokenizer.Encode(e.Prompt);
            if (promptIds.Length == 0) Problem($"{where} is empty.");
            else if (promptIds.Length > contextLength)
                Problem($"{where} has {promptIds.Length} tokens but the model's context holds {contextLength}. Shorten it.");
            lengths.Add(promptIds.Length);
            if (samePromptLength) layouts.Add(PromptLayout.Of(e, tokenizer));
            foreach (var (role, answer) in new[] { ("correct", e.Correct), ("wrong", e.Wrong) })
            {
                var ids = tokenizer.EncodeContinuation(answer);
                if (ids.Length != 1)
                    Problem($"{where}: the {role} answer \"{answer}\" is {ids.Length} tokens [{Show(tokenizer, ids)}], but answers must be " +
                            "exactly one token. Pick a single-token answer (GPT-2 answers usually start with a space, e.g. \" Paris\") or drop the prompt.");
            }
            if (e.Correct == e.Wrong)
                Problem($"{where}: the correct and the wrong answer are both \"{e.Correct}\"; they must differ.");
        }
        if (samePromptLength && (PromptLayoutRule.Violation(methodName, null, lengths, "the task") ?? PromptLayoutRule.LayoutViolation(methodName, layouts, "the task")) is string layout)
            Problem(layout);
        if (problems.Count > 0)
            throw new TaskDataException(string.Join(Environment.NewLine, problems) + (extra > 0 ? $"{Environment.NewLine}... and {extra} more problems." : ""));
    }

    /// <summary>
    /// Keeps the prompts whose <see cref="PromptLayout"/> is the most common one among the train prompts (ties: the shorter,
    /// then the first in order), in every split, so a positional method can train on train and evaluate on test with its
    /// parameters on the same tokens in every prompt. <c>Dropped</c> says what was removed.
    /// </summary>
    public static (IReadOnlyList<PromptExample> Kept, string Dropped) KeepOneLayout(IReadOnlyList<PromptExample> examples, TextTokenizer tokenizer)
    {
        if (examples.Count == 0) return (examples, "nothing to filter");
        var layouts = examples.Select(e => PromptLayout.Of(e, tokenizer)).ToArray();
        var reference = layouts.Where((_, i) => examples[i].Split == PromptExample.Train).ToArray();
        if (reference.Length == 0) reference = layouts;
        var keep = reference.GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Length).First().Key;
        var kept = examples.Where((_, i) => layouts[i] == keep).ToArray();
        var dropped = examples.Select((e, i) => (e, Layout: layouts[i])).Where(x => x.Layout != keep)
            .GroupBy(x => (x.e.Split, x.Layout)).OrderBy(g => g.Key.Split, StringComparer.Ordinal).ThenBy(g => g.Key.Layout.Length).ThenBy(g => g.Key.Layout.Slots, StringComparer.Ordinal)
            .Select(g => $"{g.Count()} {g.Key.Split} prompts of {g.Key.Layout}").ToArray();
        return (kept, dropped.Length == 0 ? $"all prompts have {keep}" : $"kept {kept.Length} prompts of {keep}; dropped {string.Join(", ", dropped)}");
    }

    internal static string Show(TextTokenizer tokenizer, IEnumerable<int> ids) => string.Join(", ", ids.Select(id => $"\"{tokenizer.TokenText(id)}\""));

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
