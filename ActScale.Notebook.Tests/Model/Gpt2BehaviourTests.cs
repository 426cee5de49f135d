using ActScale.Model;
using ActScale.Tests.Support;
using static TorchSharp.torch;

namespace ActScale.Tests.Model;

public class Gpt2BehaviourTests : IDisposable
{
    private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();
    private readonly LanguageModel _model;

    public Gpt2BehaviourTests() => _model = ModelFixtures.LoadTinyGpt2(_folder);

    [Fact]
    public void LaterTokensNeverChangeEarlierPositions()
    {
        using var shortIds = tensor(new long[] { 464, 3139, 286, 4881 }).unsqueeze(0);
        using var longIds = tensor(new long[] { 464, 3139, 286, 4881, 318, 6342, 13 }).unsqueeze(0);
        using var shortLogits = _model.Transformer.Logits(shortIds);
        using var longLogits = _model.Transformer.Logits(longIds);
        using var prefix = longLogits[.., ..4];
        Assert.True(shortLogits.allclose(prefix, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void ABatchEqualsItsRowsRunOneByOne()
    {
        long[][] rows = [[464, 3139, 286, 4881, 318], [1649, 5335, 290, 1757, 1816], [6342, 13, 464, 3139, 286]];
        using var batch = tensor(rows.SelectMany(r => r).ToArray(), [3, 5]);
        using var batched = _model.Transformer.Logits(batch);
        for (int i = 0; i < rows.Length; i++)
        {
            using var single = _model.Transformer.Logits(tensor(rows[i]).unsqueeze(0));
            Assert.True(single[0].allclose(batched[i], rtol: 0, atol: 1e-4), $"row {i}");
        }
    }

    [Fact]
    public void WeightsNeverRequireGradients()
    {
        using var ids = tensor(new long[] { 464, 3139 }).unsqueeze(0);
        using var logits = _model.Transformer.Logits(ids);
        Assert.False(logits.requires_grad);
    }

    [Theory]
    [InlineData("The capital of France is", new[] { 464, 3139, 286, 4881, 318 })]
    [InlineData("Hello world", new[] { 15496, 995 })]
    public void TokenizerMatchesGpt2Ids(string text, int[] expected) => Assert.Equal(expected, _model.Tokenizer.Encode(text));

    [Theory]
    [InlineData("When Mary and John went to the store, John gave a drink to")]
    [InlineData("Ünïcödé — emoji 🚀 and\ttabs\nnewlines")]
    public void TokenizerRoundTrips(string text) => Assert.Equal(text, _model.Tokenizer.Decode(_model.Tokenizer.Encode(text)));

    [Fact]
    public void TokenTextKeepsTheLeadingSpace() => Assert.Equal(" Paris", _model.Tokenizer.TokenText(6342));

    [Fact]
    public void APromptLongerThanTheContextIsRefused()
    {
        using var ids = zeros(1, _model.Config.ContextLength + 1, ScalarType.Int64);
        var error = Assert.Throws<ArgumentException>(() => _model.Transformer.Logits(ids).Dispose());
        Assert.Contains("context holds 32", error.Message);
    }

    public void Dispose()
    {
        _model.Dispose();
        _folder.Dispose();
    }
}
