using ActScale.Model;
using ActScale.Tasks;
using ActScale.Tests.Support;

namespace ActScale.Tests.Tasks;

/// <summary>
/// "ioi" alone only ever shows a positional method the ABBA layout; "ioi-abba" and "ioi-baba" name the order, so
/// BABA prompts (where the methods fare differently on the shipped model) can be chosen from the notebook.
/// </summary>
public class IoiOrderSelectionTests
{
    private static readonly string Lists = Path.Combine(RepoPaths.Data, "lists");

    private static LanguageModel Shipped() => LanguageModel.Load(Path.Combine(RepoPaths.Data, "models", "actscale-capitals-ioi"), "cpu");

    [Fact]
    public void BabaKeepsOnlyBabaPromptsInOneLayoutWithBothSplits()
    {
        using var model = Shipped();
        var selection = TaskSelector.Select(model, "ioi-baba", 1000, 1000, 0, Lists);

        Assert.All(selection.Examples, e => Assert.Equal("BABA", TaskGenerators.IoiOrderOf(e)));
        Assert.NotEmpty(selection.Train);
        Assert.NotEmpty(selection.Test);
        Assert.Single(selection.Examples.Select(e => PromptLayout.Of(e, model.Tokenizer)).Distinct());
        // BABA: the subject (the wrong answer) is named first.
        var first = selection.Train[0];
        Assert.True(first.Prompt.IndexOf(first.Wrong, StringComparison.Ordinal) < first.Prompt.IndexOf(first.Correct, StringComparison.Ordinal), first.Prompt);
    }

    [Fact]
    public void PlainIoiIsTheAbbaOrder()
    {
        using var model = Shipped();
        var plain = TaskSelector.Select(model, "ioi", 1000, 1000, 3, Lists);
        var abba = TaskSelector.Select(model, "IOI-ABBA", 1000, 1000, 3, Lists);

        Assert.Equal(plain.Examples.Select(e => e.Prompt), abba.Examples.Select(e => e.Prompt));
        Assert.All(abba.Examples, e => Assert.Equal("ABBA", TaskGenerators.IoiOrderOf(e)));
    }

    [Fact]
    public void UnknownOrderNamesTheTasksThereAre()
    {
        using var model = Shipped();
        var error = Assert.Throws<FileNotFoundException>(() => TaskSelector.Select(model, "ioi-bab", 10, 10, 0, Lists));
        Assert.Contains("ioi-baba", error.Message);
    }

    [Fact]
    public void HandWrittenTemplatesHaveNoOrder() =>
        Assert.Null(TaskGenerators.IoiOrderOf(new PromptExample("When Mary and John went,", " Mary", " John", PromptExample.Train, "my template")));
}
