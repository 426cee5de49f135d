using ActScale.Tasks;

namespace ActScale.Acceptance;

/// <summary>The prompt sets the acceptance test measures, built from the generators' output and the word lists.</summary>
internal static class AcceptanceTasks
{
    /// <summary>One fact-recall prompt per country and fact template (split "facts"); the wrong answer is another country's capital.</summary>
    public static IReadOnlyList<PromptExample> Facts(IReadOnlyList<(string Country, string Capital)> countries, IReadOnlyList<string> factTemplates) =>
        factTemplates.SelectMany(t => countries.Select((c, i) => new PromptExample(t.Replace("{country}", c.Country), " " + c.Capital,
            " " + countries[(i + 1) % countries.Count].Capital, "facts", t))).ToArray();

    /// <summary>
    /// Splits the generators' test prompts by what is held out: prompts of a training template hold out only the filler
    /// (split "test-<paramref name="fillerPart"/>"), the others also the template ("test-<paramref name="templatePart"/>").
    /// </summary>
    public static IReadOnlyList<PromptExample> ByHeldOutPart(IReadOnlyList<PromptExample> examples, IReadOnlyCollection<string> trainTemplates,
        string fillerPart, string templatePart)
    {
        var train = trainTemplates.ToHashSet(StringComparer.Ordinal);
        return examples.Select(e => e.Split != PromptExample.Test ? e
            : e with { Split = "test-" + (train.Contains(e.Template) ? fillerPart : templatePart) }).ToArray();
    }
}
