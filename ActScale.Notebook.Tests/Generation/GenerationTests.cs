using ActScale.Generation;
using ActScale.Model;
using ActScale.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActScale.Tests.Generation;

/// <summary>
/// Cached, batched, left-padded generation against recomputing each prompt's whole sequence alone at every step, on
/// every family's tiny checkpoint (GPT-2 included), and sampling's options.
/// </summary>
public class GenerationTests(ITestOutputHelper output) : IDisposable
{
    private readonly TinyCheckpoints.TempFolder _gpt2Folder = TinyCheckpoints.NewFolder();

    public void Dispose() => _gpt2Folder.Dispose();

    public static TheoryData<string> Families => new(FamilyFixtures.All.Keys.Append("tiny-gpt2"));

    private LanguageModel Load(string name) =>
        name == "tiny-gpt2" ? ModelFixtures.LoadTinyGpt2(_gpt2Folder) : LanguageModel.Load(FamilyFixtures.Folder(name), "cpu");

    /// <summary>Three prompts of different lengths, so two rows are left-padded.</summary>
    private static readonly int[][] Prompts =
        [FamilyFixtures.Prompt.Select(i => (int)i).ToArray(), [7, 3, 250], FamilyFixtures.Prompt.Take(6).Select(i => (int)i).ToArray()];

    /// <summary>Greedy decoding by running the full sequence every step, no cache, one prompt at a time.</summary>
    private static (int[] Tokens, float[][] Logits) Uncached(TransformerModel model, int[] prompt, int steps)
    {
        var sequence = prompt.Select(i => (long)i).ToList();
        var logits = new List<float[]>();
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            var last = model.Logits(tensor(sequence.ToArray()).unsqueeze(0))[0, -1];
            logits.Add(last.data<float>().ToArray());
            sequence.Add(last.argmax().item<long>());
        }
        return (sequence.Skip(prompt.Length).Select(i => (int)i).ToArray(), logits.ToArray());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void CachedBatchedGenerationEqualsRecomputingEachPromptAlone(string family)
    {
        using var model = Load(family);
        const int steps = 12;
        var cached = TextGenerator.Generate(model.Transformer, Prompts, new GenerationOptions { MaxTokens = steps });
        double worst = 0;
        for (int r = 0; r < Prompts.Length; r++)
        {
            var (tokens, logits) = Uncached(model.Transformer, Prompts[r], steps);
            Assert.Equal(tokens, cached[r].Tokens);
            for (int s = 0; s < steps; s++)
                worst = Math.Max(worst, logits[s].Zip(cached[r].StepLogits[s], (a, b) => Math.Abs(a - b)).Max());
        }
        output.WriteLine($"{family}: max |cached - uncached logit| over {steps} steps × {Prompts.Length} rows = {worst:E2}");
        Assert.True(worst < 1e-4, $"{family}: cached logits differ from recomputed ones by {worst:E2}");
    }

    [Fact]
    public void SamplingIsReproducibleBySeedAndTopKOneIsGreedy()
    {
        using var model = Load("tiny-llama");
        GenerationOptions Sampled(long seed) => new() { MaxTokens = 10, Temperature = 1.5, TopP = 0.95, Seed = seed };
        var first = TextGenerator.Generate(model.Transformer, Prompts, Sampled(3));
        var again = TextGenerator.Generate(model.Transformer, Prompts, Sampled(3));
        var other = TextGenerator.Generate(model.Transformer, Prompts, Sampled(4));
        Assert.Equal(first.Select(c => c.Tokens), again.Select(c => c.Tokens));
        Assert.NotEqual(first.SelectMany(c => c.Tokens), other.SelectMany(c => c.Tokens));

        var greedy = TextGenerator.Generate(model.Transformer, Prompts, new GenerationOptions { MaxTokens = 10 });
        var topOne = TextGenerator.Generate(model.Transformer, Prompts, new GenerationOptions { MaxTokens = 10, Temperature = 2, TopK = 1, Seed = 9 });
        Assert.Equal(greedy.Select(c => c.Tokens), topOne.Select(c => c.Tokens));
    }

    [Fact]
    public void TinyTopPKeepsOnlyTheMostLikelyToken()
    {
        using var model = Load("tiny-gpt2");
        var greedy = TextGenerator.Generate(model.Transformer, Prompts, new GenerationOptions { MaxTokens = 8 });
        var nucleus = TextGenerator.Generate(model.Transformer, Prompts, new GenerationOptions { MaxTokens = 8, Temperature = 1, TopP = 1e-6, Seed = 5 });
        Assert.Equal(greedy.Select(c => c.Tokens), nucleus.Select(c => c.Tokens));
    }

    [Fact]
    public void ARowStopsAfterItsStopTokenWhileOthersGoOn()
    {
        using var model = Load("tiny-gpt-neox");
        var free = TextGenerator.Generate(model.Transformer, Prompts, new GenerationOptions { MaxTokens = 6 });
        int stop = free[0].Tokens[1];
        var stopped = TextGenerator.Generate(model.Transformer, Prompts, new GenerationOptions { MaxTokens = 6, StopToken = stop });
        int at = Array.IndexOf(free[0].Tokens, stop);
        Assert.Equal(free[0].Tokens.Take(at + 1), stopped[0].Tokens);
        for (int r = 1; r < Prompts.Length; r++)
        {
            int end = Array.IndexOf(free[r].Tokens, stop);
            Assert.Equal(end < 0 ? free[r].Tokens : free[r].Tokens.Take(end + 1), stopped[r].Tokens);
        }
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(-1.0, null, null)]
    [InlineData(1.0, 0, null)]
    [InlineData(1.0, null, 1.5)]
    public void OutOfRangeOptionsAreRefusedWithTheirValue(double temperature, int? topK, double? topP)
    {
        var options = new GenerationOptions { MaxTokens = temperature == 0 ? 0 : 5, Temperature = temperature, TopK = topK, TopP = topP };
        var error = Assert.Throws<ArgumentException>(options.Check);
        Assert.Contains("got", error.Message);
    }

    [Fact]
    public void GenerationPastTheContextIsRefused()
    {
        using var model = Load("tiny-gpt2");
        var error = Assert.Throws<ArgumentException>(() =>
            TextGenerator.Generate(model.Transformer, Prompts, new GenerationOptions { MaxTokens = model.Config.ContextLength }));
        Assert.Contains("generate fewer tokens", error.Message);
    }
}

/// <summary>Cached greedy generation reproduces stories260K's golden story (skipped where ../shared is absent).</summary>
public class Stories260KGenerationTests
{
    [SharedModelFact("stories260K")]
    public void CachedGreedyGenerationTellsTheGoldenStory()
    {
        using var model = LanguageModel.Load(SharedModelFactAttribute.SharedModel("stories260K"), "cpu");
        var golden = ActScale.Tests.Model.Stories260KTests.GreedyIds;
        var story = TextGenerator.Generate(model.Transformer, [[golden[0]], golden[..5]], new GenerationOptions { MaxTokens = golden.Length - 1 });
        Assert.Equal(golden[1..], story[0].Tokens);
        Assert.Equal(golden[5..], story[1].Tokens.Take(golden.Length - 5));
    }
}
