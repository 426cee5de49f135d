using System.Text.RegularExpressions;
using ActScale.Model;

namespace ActScale.Tasks;

/// <summary>
/// A prompt's token layout: its length and, when the prompt names the template it was filled from, the token span of
/// every slot. Two prompts with one layout have their template's fixed tokens at the same positions, which is what a
/// positional parameter needs: "The capital of {country} is" filled with " France" (one token) and " South Korea" (two)
/// have different layouts, and so do two templates that merely happen to have the same token count. A prompt without a
/// template (or whose text does not fill it) is known only by its length.
/// </summary>
public sealed record PromptLayout(int Length, string Slots)
{
    /// <summary>The layout of <paramref name="example"/> under <paramref name="tokenizer"/>.</summary>
    public static PromptLayout Of(PromptExample example, TextTokenizer tokenizer)
    {
        int length = tokenizer.Encode(example.Prompt).Length;
        if (string.IsNullOrEmpty(example.Template) || SlotRanges(example.Template, example.Prompt) is not { } ranges)
            return new PromptLayout(length, "");
        var spans = ranges.Select(r => (r.Name, Start: TokensBefore(tokenizer, example.Prompt, r.Start), End: tokenizer.Encode(example.Prompt[..r.End]).Length));
        return new PromptLayout(length, string.Join(" ", spans.Select(s => s.End - s.Start == 1 ? $"{s.Name}@{s.Start}" : $"{s.Name}@{s.Start}-{s.End - 1}")));
    }

    public override string ToString() => Slots.Length == 0 ? $"{Length} tokens" : $"{Length} tokens with {Slots}";

    /// <summary>
    /// Tokens before a slot that starts at character <paramref name="start"/>. GPT-2-style tokenizers attach the space in
    /// front of a word to the word, so the prefix is cut before that space.
    /// </summary>
    private static int TokensBefore(TextTokenizer tokenizer, string prompt, int start)
    {
        while (start > 0 && prompt[start - 1] == ' ') start--;
        return start == 0 ? 0 : tokenizer.Encode(prompt[..start]).Length;
    }

    /// <summary>The character range each "{slot}" of <paramref name="template"/> covers in <paramref name="prompt"/>; null when it does not fit.</summary>
    private static List<(string Name, int Start, int End)>? SlotRanges(string template, string prompt)
    {
        // The IOI generator labels its templates with the name order ("ABBA: When {A} ..."); the label is not prompt text.
        template = Regex.Replace(template, "^[A-Z]{2,}: ", "");
        var slots = Regex.Matches(template, @"\{(\w+)\}");
        if (slots.Count == 0) return null;
        var pattern = new System.Text.StringBuilder("^");
        int at = 0;
        foreach (Match slot in slots)
        {
            pattern.Append(Regex.Escape(template[at..slot.Index])).Append("(.+?)");
            at = slot.Index + slot.Length;
        }
        pattern.Append(Regex.Escape(template[at..])).Append('$');
        var match = Regex.Match(prompt, pattern.ToString());
        if (!match.Success) return null;
        return slots.Select((slot, i) => (slot.Groups[1].Value, match.Groups[i + 1].Index, match.Groups[i + 1].Index + match.Groups[i + 1].Length)).ToList();
    }
}
