using System.Diagnostics;
using ActScale.Model;
using ActScale.Tasks;
using ActScale.Tests.Support;
using ActScale.Tests.Model.Tokenizers;
using ActScale.Objective;
using ActScale.Tests.Model;
using Xunit.Abstractions;

namespace ActScale.Tests.Reliability;

/// <summary>
/// Answers are continuations of a prompt: tokenised without BOS and without SentencePiece's dummy prefix, so a
/// one-word answer is one token wherever the vocabulary has it, which makes SentencePiece-style models usable.
/// </summary>
public class ContinuationTokenizingTests(ITestOutputHelper output)
{
    [Fact]
    public void SentencePieceAnswersKeepTheirOwnSpaceAndGetNoBos()
    {
        using var folder = TinyCheckpoints.NewFolder();
        SentencePieceTokenizerTests.WriteModel(Path.Combine(folder.Path, "tokenizer.model"));
        var tokenizer = TextTokenizer.FromFolder(folder.Path);
        int Id(string piece) => 259 + Array.IndexOf(SentencePieceTokenizerTests.Pieces, piece);
        Assert.Equal([Id("▁cat")], tokenizer.EncodeContinuation(" cat"));
        Assert.Equal([Id("▁the"), Id("▁cat")], tokenizer.EncodeContinuation(" the cat"));
        Assert.Equal([1, Id("▁cat")], tokenizer.Encode(" cat").Take(2)); // a whole text still starts with BOS
    }

    [Fact]
    public void Gpt2ContinuationsEqualPlainEncodings()
    {
        var tokenizer = TextTokenizer.FromGpt2Files(RepoPaths.Gpt2Tokenizer);
        foreach (var text in new[] { " Paris", " Mary", "Paris", " the cat" })
            Assert.Equal(tokenizer.Encode(text), tokenizer.EncodeContinuation(text));
    }

    [SharedModelFact("stories260K")]
    public void Stories260KSingleWordAnswersAreOneToken()
    {
        using var model = LanguageModel.Load(SharedModelFactAttribute.SharedModel("stories260K"), "cpu");
        foreach (var word in new[] { " Lily", " Tim", " the", " big" })
        {
            var ids = model.Tokenizer.EncodeContinuation(word);
            Assert.True(ids.Length == 1, $"'{word}' is [{string.Join(", ", ids)}]");
            Assert.Equal(word, model.Tokenizer.TokenText(ids[0]).Replace('\u2581', ' '));
        }
        Assert.Equal(1, model.Tokenizer.Encode("Lily")[0]); // a prompt still starts with BOS
    }

    [SharedModelFact("stories260K")]
    public void Stories260KTakesABringYourOwnTask()
    {
        using var model = LanguageModel.Load(SharedModelFactAttribute.SharedModel("stories260K"), "cpu");
        PromptExample Ioi(string a, string b, string split) =>
            new($"Once upon a time, {a} and {b} went to the park. {b} gave the ball to", $" {a}", $" {b}", split);
        var examples = new[] { Ioi("Lily", "Tim", "train"), Ioi("Tim", "Lily", "train"), Ioi("Lily", "Tim", "test") };
        using var task = PreparedTask.Prepare(model, examples, samePromptLength: true);
        Assert.NotNull(task);
    }

    [SharedModelFact("stories260K")]
    public void Stories260KGeneratedTasksWorkOrNameTheMultiTokenWords()
    {
        using var model = LanguageModel.Load(SharedModelFactAttribute.SharedModel("stories260K"), "cpu");
        var lists = Path.Combine(RepoPaths.Data, "lists");
        var templates = TemplateSet.ReadOrBuiltIn(Path.Combine(lists, "templates.json"));
        var ccc = Assert.Throws<TaskDataException>(() =>
            TaskGenerators.Ccc(WordLists.ReadCountries(Path.Combine(lists, "countries.tsv")), templates, tokenizer: model.Tokenizer));
        output.WriteLine(ccc.Message);
        Assert.Matches("\" [A-Z][a-z]+\" is [0-9]+ tokens", ccc.Message);
        try
        {
            var ioi = TaskGenerators.Ioi(WordLists.ReadNames(Path.Combine(lists, "names.txt")), templates, tokenizer: model.Tokenizer);
            output.WriteLine($"IOI: {ioi.Count} prompts");
            Assert.All(ioi, e => Assert.Single(model.Tokenizer.EncodeContinuation(e.Correct)));
        }
        catch (TaskDataException e)
        {
            output.WriteLine(e.Message);
            Assert.Matches("\" [A-Za-z]+\" is [0-9]+ tokens", e.Message);
        }
    }
}

/// <summary>A prompt far longer than the context is refused from its length alone, in time linear in its size.</summary>
public class LongTextTests(TinyModelFixture fixture, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    private readonly LanguageModel _model = fixture.Model;

    private TimeSpan Refuse(int size)
    {
        var text = "The" + new string('x', size);
        var examples = new[] { new PromptExample(text, " Paris", " Rome", "train") };
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<TaskDataException>(() => TaskValidator.Validate(examples, _model.Tokenizer, _model.Config.ContextLength, samePromptLength: false));
        clock.Stop();
        Assert.Contains("at least", error.Message);
        Assert.Contains($"context holds {_model.Config.ContextLength}", error.Message);
        // Encode itself refuses such a text the same way, wherever it is called from.
        Assert.Throws<ArgumentException>(() => _model.Tokenizer.Encode(text));
        return clock.Elapsed;
    }

    [Fact]
    public void TextWithoutSpacesIsRefusedInLinearTime()
    {
        Refuse(1 << 16); // warm-up
        var small = Enumerable.Range(0, 3).Min(_ => Refuse(1 << 20));
        var large = Enumerable.Range(0, 3).Min(_ => Refuse(8 << 20));
        output.WriteLine($"1 MB: {small.TotalMilliseconds:F1} ms, 8 MB: {large.TotalMilliseconds:F1} ms");
        Assert.True(large < TimeSpan.FromSeconds(2), $"8 MB took {large}");
        // Linear growth is 8×; quadratic would be 64×. The margin absorbs timer noise on a shared machine.
        Assert.True(large.TotalMilliseconds < 24 * Math.Max(small.TotalMilliseconds, 1), $"1 MB {small}, 8 MB {large}");
    }

    [Fact]
    public void ATextJustOverTheContextIsStillMeasuredExactly()
    {
        var text = string.Join(" ", Enumerable.Repeat("Paris", _model.Config.ContextLength + 1));
        var examples = new[] { new PromptExample(text, " Paris", " Rome", "train") };
        var error = Assert.Throws<TaskDataException>(() => TaskValidator.Validate(examples, _model.Tokenizer, _model.Config.ContextLength, samePromptLength: false));
        Assert.Contains($"has {_model.Config.ContextLength + 1} tokens", error.Message);
    }
}
