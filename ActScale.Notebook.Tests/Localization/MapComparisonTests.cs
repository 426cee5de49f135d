using ActScale.Localization;
using ActScale.Tests.Support;

namespace ActScale.Tests.Localization;

/// <summary>A run's effect map is compared with a patching map only where the run intervenes.</summary>
public class MapComparisonTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void PositionsBeforeTheFirstIntervenedOneAreLeftOutOfTheComparison()
    {
        using var trained = new TinyActivScalarRun(fixture.Model, steps: 6);
        var run = trained.Run;
        var effect = run.Magnitudes();
        // A patching map that ranks the run's sites as the run does, and calls position 0 the most important of all.
        var recovered = new double[effect.GetLength(0), effect.GetLength(1), effect.GetLength(2)];
        for (int s = 0; s < effect.GetLength(0); s++)
            for (int l = 0; l < effect.GetLength(1); l++)
                for (int p = 0; p < effect.GetLength(2); p++)
                    recovered[s, l, p] = p == 0 ? 100 + s + l : effect[s, l, p];
        var map = new PatchingMap("patch", PatchDirection.CleanIntoCorrupt, run.SiteKinds.ToArray(), run.TokenLabels.ToArray(), recovered, 1, 0, 6);

        var agreement = MapComparison.Compare(run, map, [3]);

        Assert.Equal(run.ParameterCount, agreement.Sites);
        Assert.Equal(1.0, agreement.RankCorrelation, 9);
        Assert.Equal((3, 3), agreement.TopKOverlap.Single());
    }
}
