using ActScale.Model;
using ActScale.Tasks;
using ActScale.Tests.Support;

namespace ActScale.Tests.Tasks;

/// <summary>Prompts group by token layout (where the template's slots fall), not by token count.</summary>
public class PromptLayoutTests
{
    private static readonly TextTokenizer Tokenizer = TextTokenizer.FromGpt2Files(RepoPaths.Gpt2Tokenizer);
    private const string Template = "The capital of {country} is {city}. The capital of {country} is";

    // GPT-2 tokens: " France", " Italy", " Paris" one each; " South Korea" two; " New York City" three.
    private static PromptExample Filled(string country, string city, string split = "train") =>
        new(Template.Replace("{country}", country).Replace("{city}", city), " Paris", " Rome", split, Template);

    [Fact]
    public void EqualLengthsWithSlotsOnDifferentTokensAreDifferentLayouts()
    {
        // Same total length: the two-token country (named twice) is balanced by a three-token city, so only the slots' positions differ.
        var oneTokenCountry = Filled("France", "New York City");
        var twoTokenCountry = Filled("South Korea", "Paris");
        var a = PromptLayout.Of(oneTokenCountry, Tokenizer);
        var b = PromptLayout.Of(twoTokenCountry, Tokenizer);
        Assert.Equal(a.Length, b.Length);
        Assert.NotEqual(a, b);
        Assert.Equal(a, PromptLayout.Of(Filled("Italy", "New York City"), Tokenizer));
        Assert.Equal("country@3 city@5-7 country@12", a.Slots);
        Assert.Equal("country@3-4 city@6 country@11-12", b.Slots);
    }

    [Fact]
    public void MixedLayoutsAreRefusedForPositionalMethodsAndKeepOneLayoutSplitsThem()
    {
        PromptExample[] examples = [Filled("France", "New York City"), Filled("Italy", "New York City"), Filled("South Korea", "Paris"), Filled("Spain", "New York City", "test")];
        var e = Assert.Throws<TaskDataException>(() => TaskValidator.Validate(examples, Tokenizer, 1024, samePromptLength: true));
        Assert.Contains("one token layout", e.Message);
        Assert.Contains("2 layouts", e.Message);
        TaskValidator.Validate(examples, Tokenizer, 1024, samePromptLength: false);

        var (kept, dropped) = TaskValidator.KeepOneLayout(examples, Tokenizer);
        Assert.Equal(["France", "Italy", "Spain"], kept.Select(k => k.Prompt.Split(' ')[3]));
        Assert.Contains("dropped 1 train prompts of", dropped);
        TaskValidator.Validate(kept, Tokenizer, 1024, samePromptLength: true);
    }

    [Fact]
    public void APromptWithoutATemplateIsKnownByItsLength()
    {
        var layout = PromptLayout.Of(new PromptExample("The capital of France is", " Paris", " Rome", "train"), Tokenizer);
        Assert.Equal(new PromptLayout(5, ""), layout);
        Assert.Equal("5 tokens", layout.ToString());
    }
}
