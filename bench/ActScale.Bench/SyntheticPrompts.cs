using ActScale.Model;
using ActScale.Tasks;

namespace ActScale.Bench;

/// <summary>Prompts of exactly <c>length</c> single-token words (GPT-2 tokenizer), the same ones pytorch_reference.py builds.</summary>
public static class SyntheticPrompts
{
    private static readonly string[] Words = [" Mary", " John", " the", " store", " gave", " a", " drink", " to", " Paris", " capital", " of", " France"];

    public static List<PromptExample> Make(LanguageModel model, int count, int length)
    {
        var prompts = new List<PromptExample>();
        for (int i = 0; i < count; i++)
            prompts.Add(new PromptExample(string.Concat(Enumerable.Range(0, length).Select(j => Words[(i + j * 5) % Words.Length])), " Paris", " Rome", PromptExample.Train));
        return prompts;
    }
}
