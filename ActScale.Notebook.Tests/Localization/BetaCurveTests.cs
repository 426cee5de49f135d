using ActScale.Evaluation;
using ActScale.Localization;
using ActScale.Tests.Support;

namespace ActScale.Tests.Localization;

/// <summary>β curves agree with the evaluator at ±1, are the clean model at 0, and parse the --values forms.</summary>
public class BetaCurveTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void PointsAtPlusMinusOneMatchTheEvaluatorAndZeroIsTheCleanModel()
    {
        var model = fixture.Model;
        using var trained = new TinyActivScalarRun(model, steps: 4);
        var (task, run) = (trained.Task, trained.Run);
        var points = BetaCurve.Measure(model, run, task, [-1, 1, 2], ["train", "test"]);
        Assert.Equal([-1.0, 0, 1, 2, -1, 0, 1, 2], points.Select(p => p.Beta));
        var metrics = Evaluator.Evaluate(model, run, task);
        foreach (var split in new[] { "train", "test" })
        {
            var at = points.Where(p => p.Split == split).ToDictionary(p => p.Beta);
            foreach (var beta in new[] { 1.0, -1.0 })
            {
                var row = metrics.Single(m => m.Split == split && m.Beta == beta);
                Assert.Equal(row.MeanLogitDifference, at[beta].MeanLogitDifference, 4);
                Assert.Equal(row.Kl, at[beta].Kl, 4);
            }
            Assert.Equal(metrics.First(m => m.Split == split).CleanMeanLogitDifference, at[0].MeanLogitDifference, 4);
            Assert.Equal(0, at[0].Kl, 5);
            Assert.InRange(at[1].BothBetaSuccess, 0, Math.Min(metrics.Single(m => m.Split == split && m.Beta == 1).FlipAccuracy,
                metrics.Single(m => m.Split == split && m.Beta == -1).FlipAccuracy));
            Assert.True(at[1].PCorrect > 0 && at[1].PCorrect + at[1].PWrong <= 1);
        }
    }

    [Theory]
    [InlineData("-1:1:0.5", new[] { -1, -0.5, 0, 0.5, 1 })]
    [InlineData("-3:3:0.25", null)]
    [InlineData("2,-1, 0.5", new[] { 2, -1, 0.5 })]
    public void ValuesParseAsRangesOrLists(string text, double[]? expected)
    {
        var values = BetaCurve.ParseValues(text);
        if (expected is null) Assert.Equal(25, values.Count);
        else Assert.Equal(expected, values);
    }

    [Theory]
    [InlineData("1:-1:0.5", "from ≤ to")]
    [InlineData("-1:1:0", "positive step")]
    [InlineData("-1:1", "from:to:step")]
    [InlineData("a,b", "'a' is not a number")]
    [InlineData("0:1000:0.5", "at most 1000")]
    public void BadValuesSayHowToWriteThem(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => BetaCurve.ParseValues(text));
        Assert.Contains(expected, error.Message);
    }
}
