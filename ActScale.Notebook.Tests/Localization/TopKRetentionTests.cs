using ActScale.Localization;
using ActScale.Tests.Support;

namespace ActScale.Tests.Localization;

/// <summary>Top-k retention ranks by the effect map, keeps only those parameters, and ends at the full run.</summary>
public class TopKRetentionTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void KeepingEverySiteIsTheFullRunAndFewerSitesRankByMagnitude()
    {
        var model = fixture.Model;
        using var trained = new TinyActivScalarRun(model, steps: 6);
        var (task, run) = (trained.Task, trained.Run);
        var ranked = TopKRetention.RankedSites(run);
        var magnitudes = run.Magnitudes();
        // Position 0 is left out by default: it is no site of the run.
        Assert.Equal(1, run.Layout.FirstPosition);
        Assert.Equal(run.ParameterCount, ranked.Count);
        Assert.Equal(magnitudes.GetLength(0) * magnitudes.GetLength(1) * (magnitudes.GetLength(2) - 1), ranked.Count);
        Assert.DoesNotContain(ranked, i => i[2] == 0);
        var values = ranked.Select(i => magnitudes[i[0], i[1], i[2]]).ToArray();
        Assert.Equal(values.OrderByDescending(v => v), values);

        var result = TopKRetention.Measure(model, run, task, [1, 3], ["train", "test"]);
        Assert.Equal([1, 3, ranked.Count], result.Points.Where(p => p.Split == "train").Select(p => p.K));
        var full = BetaCurve.Measure(model, run, task, [-1.0, 1.0], ["train"]).ToDictionary(p => p.Beta);
        var last = result.Points.Single(p => p.Split == "train" && p.K == ranked.Count);
        Assert.Equal((full[1].MeanLogitDifference - full[-1].MeanLogitDifference) / 2, last.Effect, 4);
        Assert.Equal(full[1].BothBetaSuccess, last.BothBetaSuccess, 6);
        Assert.True(result.SmallestKAt90["train"] is int k && k <= ranked.Count);
        // Fewer sites move the model less than all of them.
        Assert.True(result.Points.Single(p => p.Split == "train" && p.K == 1).Kl <= last.Kl + 1e-6);
    }

    [Fact]
    public void DoublingCountsStopBelowTheTotal() => Assert.Equal([1, 2, 4, 8], TopKRetention.DoublingCounts(9));
}
