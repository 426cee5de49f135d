using ActScale.Hooks;
using ActScale.Localization;
using ActScale.Tasks;
using ActScale.Tests.Support;

namespace ActScale.Tests.Localization;

/// <summary>Activation and attribution patching on the tiny GPT-2, checked where the answer is known exactly.</summary>
public class ActivationPatchingTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private static readonly string[] Capitals = [" Paris", " Rome", " Madrid", " Berlin", " Tokyo", " Cairo", " Moscow", " Dublin"];

    /// <summary>The same-length task with the in-context capital swapped for a third one.</summary>
    private IReadOnlyList<PromptExample> Corrupted() => TinyModelFixture.SameLengthTask().Select(e => e with
    {
        Corrupt = Corruption.ReplaceLast(e.Prompt, e.Wrong, Capitals.Select(c => c.Trim()).ToArray(), [e.Correct.Trim(), e.Wrong.Trim()], fixture.Model.Tokenizer),
    }).ToArray();

    private static readonly SiteKind[] Residuals = [SiteKind.ResidPre, SiteKind.ResidPost];

    [Theory]
    [InlineData(PatchDirection.CleanIntoCorrupt)]
    [InlineData(PatchDirection.CorruptIntoClean)]
    public void TheLastResidualRestoresEverythingAndPositionsBeforeTheSwapNothing(PatchDirection direction)
    {
        var examples = Corrupted();
        var map = ActivationPatching.Patch(fixture.Model, examples, Residuals, direction);
        int last = map.Recovered.GetLength(2) - 1, layers = fixture.Model.Config.LayerCount;
        Assert.Equal(1.0, map.Recovered[1, layers - 1, last], 3);
        // "The capital of France is" comes before the swapped capital, so nothing differs there.
        for (int p = 0; p < 5; p++) Assert.Equal(0.0, map.Recovered[0, 0, p], 6);
        Assert.NotEqual(map.CleanLogitDifference, map.CorruptLogitDifference);
        var view = map.Heatmap();
        Assert.Equal(["L0 resid_pre", "L0 resid_post", "L1 resid_pre", "L1 resid_post"], view.RowLabels);
        Assert.Equal(last + 1, view.Columns);
    }

    [Fact]
    public void AttributionIsZeroWhereNothingChangedAndAgreesInSignWithPatchingAtTheEnd()
    {
        var examples = Corrupted();
        var estimate = ActivationPatching.Patch(fixture.Model, examples, Residuals, PatchDirection.Attribution);
        for (int p = 0; p < 5; p++) Assert.Equal(0.0, estimate.Recovered[0, 0, p], 6);
        int last = estimate.Recovered.GetLength(2) - 1, layers = fixture.Model.Config.LayerCount;
        Assert.True(estimate.Recovered[1, layers - 1, last] > 0, $"estimate at the last residual: {estimate.Recovered[1, layers - 1, last]}");
    }

    [Fact]
    public void PromptsWithoutCorruptedTwinsOrWithAnotherTokenCountAreRefused()
    {
        var plain = TinyModelFixture.SameLengthTask();
        var missing = Assert.Throws<TaskDataException>(() => ActivationPatching.Patch(fixture.Model, plain, Residuals, PatchDirection.CleanIntoCorrupt));
        Assert.Contains("\"corrupt\" field", missing.Message);
        var longer = plain.Select(e => e with { Corrupt = e.Prompt + " indeed" }).ToArray();
        var length = Assert.Throws<TaskDataException>(() => ActivationPatching.Patch(fixture.Model, longer, Residuals, PatchDirection.CleanIntoCorrupt));
        Assert.Contains("same token count", length.Message);
    }

    [Fact]
    public void CorruptionSwapsTheLastWholeWordKeepingTheTokenCount()
    {
        var tokenizer = fixture.Model.Tokenizer;
        var prompt = "When Mary and John went to the store, John gave a drink to";
        var corrupt = Corruption.ReplaceLast(prompt, " John", ["Mary", "John", "Anna"], ["Mary", "John"], tokenizer);
        Assert.Equal("When Mary and John went to the store, Anna gave a drink to", corrupt);
        Assert.Equal(tokenizer.Encode(prompt).Length, tokenizer.Encode(corrupt!).Length);
        Assert.Null(Corruption.ReplaceLast(prompt, "Bob", ["Anna"], [], tokenizer));
        Assert.Equal("Johnny met Anna", Corruption.ReplaceLast("Johnny met John", "John", ["Anna"], [], null));
    }

    [Fact]
    public void SpearmanIsOneForTheSameOrderMinusOneReversedAndHandlesTies()
    {
        Assert.Equal(1.0, MapComparison.Spearman([1, 2, 3, 4], [10, 20, 30, 40]), 10);
        Assert.Equal(-1.0, MapComparison.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 10);
        Assert.Equal(0.9486832980505138, MapComparison.Spearman([1, 2, 2, 3], [1, 2, 3, 4]), 10);
    }

    [Fact]
    public void HeadAttributionsOfALayerAddUpToItsAttentionOutputsBecauseTheProjectionIsLinear()
    {
        var examples = Corrupted();
        var heads = ActivationPatching.PatchHeads(fixture.Model, examples, PatchDirection.Attribution);
        var outputs = ActivationPatching.Patch(fixture.Model, examples, [SiteKind.AttnOut], PatchDirection.Attribution);
        Assert.Equal([fixture.Model.Config.LayerCount, fixture.Model.Config.HeadCount], new[] { heads.Recovered.GetLength(0), heads.Recovered.GetLength(1) });
        for (int l = 0; l < fixture.Model.Config.LayerCount; l++)
        {
            double perHead = Enumerable.Range(0, heads.Recovered.GetLength(1)).Sum(h => heads.Recovered[l, h]);
            double perPosition = Enumerable.Range(0, outputs.Recovered.GetLength(2)).Sum(p => outputs.Recovered[0, l, p]);
            Assert.Equal(perPosition, perHead, 4);
        }
        Assert.Equal(["L0", "L1"], heads.Heatmap().RowLabels);
        Assert.Equal(heads.Ranked()[0].Recovered, heads.Ranked().MaxBy(x => Math.Abs(x.Recovered)).Recovered);
    }

    [Fact]
    public void ExactHeadPatchingGivesAFiniteMapAndMixingHeadsWithPositionsIsRefused()
    {
        var examples = Corrupted();
        var heads = ActivationPatching.PatchHeads(fixture.Model, examples, PatchDirection.CleanIntoCorrupt);
        Assert.All(heads.Recovered.Cast<double>(), v => Assert.True(double.IsFinite(v)));
        var error = Assert.Throws<ArgumentException>(() => ActivationPatching.Patch(fixture.Model, examples, [SiteKind.AttnHead, SiteKind.AttnOut], PatchDirection.CleanIntoCorrupt));
        Assert.Contains("PatchHeads", error.Message);
    }
}
