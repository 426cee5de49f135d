using ActScale.Evaluation;

namespace ActScale.Tests.Evaluation;

public class SeedIntervalTests
{
    [Fact]
    public void ThreeSeedsGiveTheStudentTIntervalOfTheMean()
    {
        // mean 0.8, sample sd 0.1, t(0.975, 2) = 4.303: half-width 4.303 · 0.1 / √3.
        var interval = SeedInterval.Of([0.7, 0.8, 0.9]);
        Assert.Equal(0.8, interval.Mean, 12);
        Assert.Equal(4.303 * 0.1 / Math.Sqrt(3), interval.HalfWidth, 9);
        Assert.Equal("0.80 ± 0.25", interval.ToString());
    }

    [Fact]
    public void OneSeedHasNoIntervalAndNaNsAreLeftOut()
    {
        var interval = SeedInterval.Of([0.5, double.NaN]);
        Assert.Equal(1, interval.Seeds);
        Assert.True(double.IsNaN(interval.HalfWidth));
        Assert.Equal("0.50", interval.ToString());
    }
}
