using ActScale.Interventions;
using ActScale.Localization;
using ActScale.Objective;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Localization;

/// <summary>A run's effect map is compared with a patching map only where the run intervenes.</summary>
public class MapComparisonTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void PositionsBeforeTheFirstIntervenedOneAreLeftOutOfTheComparison()
    {
        var model = fixture.Model;
        using var task = PreparedTask.Prepare(model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = Trainer.Train(model, task, new TrainingOptions { Method = InterventionMethod.ActivScalar, Steps = 6, BatchSize = 6, LearningRate = 0.1 });
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
