using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Tests.Support;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Tests.Evaluation;

/// <summary>The evaluation cannot credit an intervention that does nothing: it reports the clean row and scores a null run 0.</summary>
public class CleanBaselineTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private InterventionRun NullRun(PreparedTask task)
    {
        var options = new TrainingOptions { Method = InterventionMethod.ActivScalar };
        var layout = new InterventionLayout(options.SiteKinds, fixture.Model.Config.LayerCount, fixture.Model.Config.Width, task.PromptLength);
        return new InterventionRun("null", options, fixture.Model.Identity, layout.LayerCount, layout.Width, task.PromptLength, task.TokenLabels,
            zeros(InterventionMethod.ActivScalar.ParameterShape(layout)));
    }

    [Fact]
    public void ANullInterventionHasNoBothBetaSuccessAndNoChangeAgainstTheCleanRow()
    {
        using var task = PreparedTask.Prepare(fixture.Model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = NullRun(task);
        var rows = Evaluator.Evaluate(fixture.Model, run, task, new EvaluationOptions([1.0, -1.0]));
        foreach (var split in new[] { "train", "test" })
        {
            var clean = rows.Single(r => r.Split == split && r.Beta == 0);
            var plus = rows.Single(r => r.Split == split && r.Beta == 1);
            var minus = rows.Single(r => r.Split == split && r.Beta == -1);
            Assert.Equal(0, clean.Kl, 4);
            Assert.Equal(clean.FlipAccuracy, plus.FlipAccuracy);
            Assert.Equal(1 - clean.FlipAccuracy, minus.FlipAccuracy, 6);
            Assert.All([clean, plus, minus], r => Assert.Equal(0, r.FlipAccuracyChange, 6));
            Assert.All([plus, minus], r => Assert.Equal(0, r.BothBetaSuccess));
            Assert.Equal(clean.Top1Guard, plus.Top1Guard);
        }
    }
}
