using ActScale.Model;

namespace ActScale.Tasks;

/// <summary>
/// Corrupted prompts for activation patching: the prompt with one word swapped for another of the same kind, so the
/// token count and layout stay and the answer-relevant information is gone (IOI: a third name in place of the repeated
/// subject; CCC: another capital in place of the in-context one).
/// </summary>
public static class Corruption
{
    /// <summary>
    /// <paramref name="prompt"/> with the last whole-word <paramref name="word"/> replaced by one of
    /// <paramref name="candidates"/> not in <paramref name="exclude"/> that keeps the token count (with a tokenizer);
    /// null when the word is absent or no candidate fits. The choice depends only on the prompt, so generating a task
    /// draws the same random numbers with or without corruption.
    /// </summary>
    public static string? ReplaceLast(string prompt, string word, IReadOnlyList<string> candidates, IReadOnlyCollection<string> exclude, TextTokenizer? tokenizer)
    {
        word = word.Trim();
        int at = LastWholeWord(prompt, word);
        if (at < 0) return null;
        int length = tokenizer?.Encode(prompt).Length ?? 0;
        var random = new Random(StableHash(prompt));
        foreach (var candidate in candidates.Where(c => !exclude.Contains(c) && c != word).OrderBy(_ => random.Next()))
        {
            var corrupt = prompt[..at] + candidate + prompt[(at + word.Length)..];
            if (tokenizer is null || tokenizer.Encode(corrupt).Length == length) return corrupt;
        }
        return null;
    }

    private static int LastWholeWord(string text, string word)
    {
        for (int at = text.LastIndexOf(word, StringComparison.Ordinal); at >= 0; at = at == 0 ? -1 : text.LastIndexOf(word, at - 1, StringComparison.Ordinal))
        {
            bool startsWord = at == 0 || !char.IsLetterOrDigit(text[at - 1]);
            bool endsWord = at + word.Length == text.Length || !char.IsLetterOrDigit(text[at + word.Length]);
            if (startsWord && endsWord) return at;
        }
        return -1;
    }

    /// <summary>FNV-1a over the characters: string.GetHashCode differs between processes.</summary>
    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (var c in text) hash = (hash ^ c) * 16777619;
        return (int)(hash & 0x7fffffff);
    }
}
