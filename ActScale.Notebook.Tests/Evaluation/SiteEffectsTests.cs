using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Tests.Support;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Tests.Evaluation;

/// <summary>The effect measure shared by all methods: relative change per site and position, and |ΔLD| on removing a site.</summary>
public class SiteEffectsTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private InterventionRun Run(PreparedTask task, InterventionMethod method, float value)
    {
        var options = new TrainingOptions { Method = method };
        var layout = new InterventionLayout(options.SiteKinds, fixture.Model.Config.LayerCount, fixture.Model.Config.Width, task.PromptLength);
        return new InterventionRun(method.Name, options, fixture.Model.Identity, layout.LayerCount, layout.Width, task.PromptLength, task.TokenLabels,
            full(method.ParameterShape(layout), value));
    }

    /// <summary>Every parameter, position 0's included, is −0.5; the default first position 1 leaves position 0 unchanged.</summary>
    [Fact]
    public void ActivScalarsRelativeChangeIsItsAlphaAndRemovingAnActiveSiteMovesTheLogitDifference()
    {
        using var task = PreparedTask.Prepare(fixture.Model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = Run(task, InterventionMethod.ActivScalar, -0.5f);
        var effects = SiteEffects.Measure(fixture.Model, run, task.Split("test"));
        var change = effects.RelativeChange;
        for (int s = 0; s < change.GetLength(0); s++)
            for (int l = 0; l < change.GetLength(1); l++)
                for (int p = 0; p < change.GetLength(2); p++)
                    Assert.Equal(p == 0 ? 0 : 0.5, change[s, l, p], 4);
        Assert.Equal(change.Length - change.GetLength(0) * change.GetLength(1), effects.SitesAbove());
        Assert.Equal(0, effects.SitesAbove(0.6));
        Assert.Contains(effects.RemovalDelta.Cast<double>(), d => d > 1e-3);
        Assert.Equal(1.0, effects.Heatmap("run").MarkAtOrAbove);
    }

    [Fact]
    public void ANullInterventionHasNoEffectAnywhere()
    {
        using var task = PreparedTask.Prepare(fixture.Model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = Run(task, InterventionMethod.SteerVec, 0f);
        var effects = SiteEffects.Measure(fixture.Model, run, task.Split("train"));
        Assert.Equal(0, effects.SitesAbove(1e-6));
        Assert.All(effects.RemovalDelta.Cast<double>(), d => Assert.Equal(0, d, 6));
    }
}
