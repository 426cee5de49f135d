using ActScale.Model;
using ActScale.Tasks;
using ActScale.Tests.Support;

namespace ActScale.Tests.Tasks;

/// <summary>
/// The generated tasks have one token layout per family: every prompt has the same length and its answer slots at the
/// same positions, so a positional parameter scales the same kind of word in every prompt.
/// </summary>
public class TaskLayoutTests
{
    private static readonly TextTokenizer Tokenizer = TextTokenizer.FromGpt2Files(RepoPaths.Gpt2Tokenizer);

    public static TheoryData<string> TemplateSources => new() { "shipped", "built-in" };

    private static TemplateSet Templates(string source) =>
        source == "shipped" ? TemplateSet.Read(Path.Combine(RepoPaths.Data, "lists", "templates.json")) : TemplateSet.BuiltIn;

    [Theory]
    [MemberData(nameof(TemplateSources))]
    public void CccPromptsShareOneLayout(string source)
    {
        var countries = WordLists.ReadCountries(Path.Combine(RepoPaths.Data, "lists", "countries.tsv"));
        AssertOneLayout(TaskGenerators.Ccc(countries, Templates(source), tokenizer: Tokenizer));
    }

    [Theory]
    [MemberData(nameof(TemplateSources))]
    public void IoiPromptsShareOneLayout(string source)
    {
        var names = WordLists.ReadNames(Path.Combine(RepoPaths.Data, "lists", "names.txt"));
        AssertOneLayout(TaskGenerators.Ioi(names, Templates(source), tokenizer: Tokenizer));
    }

    [Fact]
    public void CccTestSplitHoldsOutCountriesAndWordings()
    {
        var templates = Templates("shipped");
        var ccc = TaskGenerators.Ccc(WordLists.ReadCountries(Path.Combine(RepoPaths.Data, "lists", "countries.tsv")), templates, tokenizer: Tokenizer);
        var trainCountries = ccc.Where(e => e.Split == PromptExample.Train).Select(e => e.Correct).ToHashSet();
        var heldOut = ccc.Where(e => e.Split == PromptExample.Test && templates.CccTrain.Contains(e.Template)).ToList();
        Assert.NotEmpty(heldOut);
        Assert.DoesNotContain(heldOut, e => trainCountries.Contains(e.Correct));
        Assert.Contains(ccc, e => e.Split == PromptExample.Test && templates.CccTest.Contains(e.Template));
        Assert.DoesNotContain(ccc, e => e.Split == PromptExample.Train && templates.CccTest.Contains(e.Template));
    }

    /// <summary>One length, and the answer tokens (either one: ABBA and BABA swap them) at the same positions in every prompt.</summary>
    private static void AssertOneLayout(IReadOnlyList<PromptExample> examples)
    {
        Assert.NotEmpty(examples);
        var layouts = examples.Select(e =>
        {
            var ids = Tokenizer.Encode(e.Prompt);
            int correct = Tokenizer.Encode(e.Correct)[0], wrong = Tokenizer.Encode(e.Wrong)[0];
            var slots = Enumerable.Range(0, ids.Length).Where(i => ids[i] == correct || ids[i] == wrong);
            return $"{ids.Length} tokens, answers at [{string.Join(", ", slots)}]";
        }).Distinct().ToList();
        Assert.True(layouts.Count == 1, $"expected one layout; found {string.Join("; ", layouts)}");
    }
}
