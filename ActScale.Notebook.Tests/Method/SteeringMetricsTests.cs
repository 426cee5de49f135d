using ActScale.Evaluation;

namespace ActScale.Tests.Method;

/// <summary>The steering metrics on hand-made per-prompt numbers, including the null intervention they must not credit.</summary>
public class SteeringMetricsTests
{
    [Fact]
    public void FlipAccuracyCountsTheIntendedSignAndTiesAsFailures()
    {
        double[] ld = [2, -1, 0, 0.5];
        Assert.Equal(0.5, SteeringMetrics.FlipAccuracy(ld, 1));
        Assert.Equal(0.25, SteeringMetrics.FlipAccuracy(ld, -1));
    }

    [Fact]
    public void BothBetaSuccessNeedsTheSamePromptToFlipBothWays()
    {
        // Prompt 0 flips both ways; 1 only at +1; 2 only at −1; 3 neither.
        double[] plus = [1, 2, -1, -1];
        double[] minus = [-1, 3, -2, 1];
        Assert.Equal(0.25, SteeringMetrics.BothBetaSuccess(plus, minus));
    }

    [Fact]
    public void ANullInterventionScoresZeroBothBetaSuccessAndHalfMeanFlipAccuracy()
    {
        var clean = new[] { Measure(1.5), Measure(-0.5), Measure(0.2), Measure(-3) };
        var s = SteeringMetrics.Summarise(clean, clean, clean);
        Assert.Equal(0, s.BothBetaSuccess);
        Assert.Equal(0.5, (s.FlipAccuracyPlus + s.FlipAccuracyMinus) / 2);
        Assert.Equal(s.CleanAccuracy, s.FlipAccuracyPlus);
    }

    [Fact]
    public void SummaryReportsKlAndTopOneGuardPerBeta()
    {
        var clean = new[] { Measure(-1), Measure(-1) };
        var plus = new[] { Measure(2, kl: 0.1, top: 10), Measure(1, kl: 0.3, top: 99) };
        var minus = new[] { Measure(-2, kl: 0.5, top: 11), Measure(-1, kl: 0.7, top: 11) };
        var s = SteeringMetrics.Summarise(clean, plus, minus);
        Assert.Equal(0.2, s.KlPlus, 12);
        Assert.Equal(0.6, s.KlMinus, 12);
        Assert.Equal(0.6, s.WorstKl, 12);
        Assert.Equal(0.5, s.Top1GuardPlus);
        Assert.Equal(1.0, s.Top1GuardMinus);
        Assert.Equal(0.5, s.WorstTop1Guard);
        Assert.Equal(1.0, s.BothBetaSuccess);
        Assert.Equal(0.0, s.CleanAccuracy);
    }

    [Fact]
    public void TopIsCorrectCountsOnlyTheCorrectAnswerOnTop()
    {
        var measures = new[] { Measure(1, top: 10), Measure(1, top: 11), Measure(1, top: 3) };
        Assert.Equal(1 / 3.0, SteeringMetrics.TopIsCorrect(measures), 12);
        Assert.Equal(2 / 3.0, SteeringMetrics.Top1Guard(measures), 12);
    }

    [Fact]
    public void CorrelationIsPearsonAndZeroForAConstantVector()
    {
        Assert.Equal(1, SteeringMetrics.Correlation([1, 2, 3], [2, 4, 6]), 12);
        Assert.Equal(-1, SteeringMetrics.Correlation([1, 2, 3], [3, 2, 1]), 12);
        // x = (−1, 0, 1), y = (1, −2, 1) after centring: Σxy = 0.
        Assert.Equal(0, SteeringMetrics.Correlation([1, 2, 3], [2, -1, 2]), 12);
        Assert.Equal(0, SteeringMetrics.Correlation([1, 2, 3], [5, 5, 5]));
    }

    [Fact]
    public void MisalignedArraysAreRefusedWithTheirSizes()
    {
        var e = Assert.Throws<ArgumentException>(() => SteeringMetrics.BothBetaSuccess([1, 2], [1]));
        Assert.Contains("2 and 1", e.Message);
    }

    private static PromptMeasure Measure(double logitDifference, double kl = 0, int top = 10) =>
        new(logitDifference, kl, top, Correct: 10, Wrong: 11);
}
