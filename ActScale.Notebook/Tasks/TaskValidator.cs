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
    /// for the positional methods) the prompts do not all tokenize to one length.
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
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            var where = $"Prompt #{i + 1} \"{Shorten(e.Prompt)}\"";
            var promptIds = tokenizer.Encode(e.Prompt);
            if (promptIds.Length == 0) Problem($"{where} is empty.");
            else if (promptIds.Length > contextLength)
                Problem($"{where} has {promptIds.Length} tokens but the model's context holds {contextLength}. Shorten it.");
            lengths.Add(promptIds.Length);
            foreach (var (role, answer) in new[] { ("correct", e.Correct), ("wrong", e.Wrong) })
            {
                var ids = tokenizer.Encode(answer);
                if (ids.Length != 1)
                    Problem($"{where}: the {role} answer \"{answer}\" is {ids.Length} tokens [{Show(tokenizer, ids)}], but answers must be " +
                            "exactly one token. Pick a single-token answer (GPT-2 answers usually start with a space, e.g. \" Paris\") or drop the prompt.");
            }
            if (e.Correct == e.Wrong)
                Problem($"{where}: the correct and the wrong answer are both \"{e.Correct}\"; they must differ.");
        }
        if (samePromptLength && PromptLayoutRule.Violation(methodName, null, lengths, "the task") is string layout) Problem(layout);
        if (problems.Count > 0)
            throw new TaskDataException(string.Join(Environment.NewLine, problems) + (extra > 0 ? $"{Environment.NewLine}... and {extra} more problems." : ""));
    }

    /// <summary>
    /// Keeps the prompts whose token count is the most common one among the train prompts (ties: the shorter), in every
    /// split, so a positional method can train on train and evaluate on test. <c>Dropped</c> says what was removed.
    /// </summary>
    public static (IReadOnlyList<PromptExample> Kept, string Dropped) KeepOneLength(IReadOnlyList<PromptExample> examples, TextTokenizer tokenizer)
    {
        if (examples.Count == 0) return (examples, "nothing to filter");
        var lengths = examples.Select(e => tokenizer.Encode(e.Prompt).Length).ToArray();
        var reference = examples.Select((e, i) => (e, i)).Where(x => x.e.Split == PromptExample.Train).Select(x => lengths[x.i]).ToArray();
        if (reference.Length == 0) reference = lengths;
        int keep = reference.GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        var kept = examples.Where((e, i) => lengths[i] == keep).ToArray();
        var dropped = examples.Select((e, i) => (e, i)).Where(x => lengths[x.i] != keep)
            .GroupBy(x => (x.e.Split, Length: lengths[x.i])).OrderBy(g => g.Key.Split).ThenBy(g => g.Key.Length)
            .Select(g => $"{g.Count()} {g.Key.Split} prompts of {g.Key.Length} tokens").ToArray();
        return (kept, dropped.Length == 0 ? $"all prompts have {keep} tokens" : $"kept {kept.Length} prompts of {keep} tokens; dropped {string.Join(", ", dropped)}");
    }

    internal static string Show(TextTokenizer tokenizer, IEnumerable<int> ids) => string.Join(", ", ids.Select(id => $"\"{tokenizer.TokenText(id)}\""));

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
