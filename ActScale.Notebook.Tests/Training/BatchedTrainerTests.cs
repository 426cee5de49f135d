using ActScale.Evaluation;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Tests.Support;
using ActScale.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActScale.Tests.Training;

/// <summary>Settings trained together in one batched step give what each setting's own training gives.</summary>
public class BatchedTrainerTests(TinyModelFixture fixture, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    private const double Tolerance = 1e-5;
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;

    private PreparedTask Task() => PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);

    private static float[] Values(InterventionRun run) => run.Parameters.cpu().data<float>().ToArray();

    /// <summary>
    /// Four settings that differ in every way a sweep varies them: λ_M, λ_F, margin, ℓ1 reduction and seed (two share seed 1,
    /// so they draw the same minibatches); minibatches of 3 of the 6 training prompts, so the seeds draw different rows.
    /// </summary>
    private static TrainingOptions[] Settings(InterventionMethod method, IReadOnlyList<SiteKind> sites)
    {
        var baseOptions = new TrainingOptions { Method = method, SiteKinds = sites, Steps = 12, BatchSize = 3, LearningRate = 0.05, ReportEvery = 3 };
        return
        [
            baseOptions with { Seed = 1 },
            baseOptions with { Seed = 1, Loss = new() { LambdaM = 0.05, LambdaF = 0.2 } },
            baseOptions with { Seed = 7, Loss = new() { Margin = 3, LambdaF = 0, L1 = L1Reduction.Mean } },
            baseOptions with { Seed = 42, Loss = new() { LambdaM = 0, LambdaF = 2, Margin = 0.5 } },
        ];
    }

    [Theory]
    [InlineData("ActivScalar", "attn_out,mlp_out")]
    [InlineData("ActivScalar", "attn_head")]
    [InlineData("SteerVec", "attn_out,mlp_out")]
    [InlineData("DynScalar", "attn_out,mlp_out")]
    public void BatchedSettingsEqualTheirOwnTrainings(string name, string sites)
    {
        using var task = Task();
        var settings = Settings(InterventionRegistry.Get(name), sites.Split(',').Select(Site.ParseKind).ToArray());
        var outcomes = BatchedTrainer.Train(_model, task, settings);
        Assert.Equal(settings.Length, outcomes.Count);
        // Different settings really trained differently: the batch did not hand one setting's parameters to all.
        Assert.NotEqual(Values(outcomes[0].Run!), Values(outcomes[1].Run!));
        for (int s = 0; s < settings.Length; s++)
        {
            using var alone = Trainer.Train(_model, task, settings[s]);
            using var together = outcomes[s].Run!;
            Assert.Null(outcomes[s].Diverged);
            Assert.Same(settings[s], together.Options);
            Assert.Equal(alone.Parameters.shape, together.Parameters.shape);
            var (a, b) = (Values(alone), Values(together));
            double largest = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            output.WriteLine($"{name} setting {s}: ‖θ‖₁ {alone.L1():G4}, largest difference {largest:G3}");
            Assert.True(largest <= Tolerance, $"setting {s}: parameters differ by {largest}");
            Assert.True(alone.L1() > 0.01, "the setting must have trained for the comparison to mean anything");
            Assert.Equal(alone.History.Select(h => h.Step), together.History.Select(h => h.Step));
            foreach (var (x, y) in alone.History.Zip(together.History))
            {
                Assert.Equal(x.Loss, y.Loss, Tolerance);
                Assert.Equal(x.Effectiveness, y.Effectiveness, Tolerance);
                Assert.Equal(x.Faithfulness, y.Faithfulness, Tolerance);
                Assert.Equal(x.L1, y.L1, Tolerance);
            }
        }
    }

    [Fact]
    public void SweepTrainsSettingsThatShareAStepTogetherAndKeepsGridOrder()
    {
        using var task = Task();
        var baseOptions = new TrainingOptions { Steps = 6, BatchSize = 3, LearningRate = 0.05 };
        // Two batches (6 and 8 steps), each of two λ_M values; the grid interleaves them.
        var grid = new SweepGrid(LambdaM: [0, 0.05], Steps: [6, 8]);
        var result = Sweep.Run(_model, task, baseOptions, grid);
        Assert.Empty(result.Failures);
        var settings = grid.Settings(baseOptions).ToArray();
        Assert.Equal(settings.Select(o => (o.Loss.LambdaM, o.Steps)), result.Rows.Select(r => (r.LambdaM, r.Steps)).Distinct());
        foreach (var options in settings)
        {
            using var alone = Experiment.TrainAndEvaluate(_model, task, options);
            var rows = result.Rows.Where(r => r.LambdaM == options.Loss.LambdaM && r.Steps == options.Steps).ToArray();
            Assert.Equal(alone.Metrics.Select(m => (m.Split, m.Beta)), rows.Select(r => (r.Split, r.Beta)));
            foreach (var (a, b) in alone.Metrics.Zip(rows))
            {
                Assert.Equal(a.L1, b.L1, 1e-4);
                Assert.Equal(a.MeanLogitDifference, b.MeanLogitDifference, 1e-4);
                Assert.Equal(a.Kl, b.Kl, 1e-5);
            }
        }
    }

    [Fact]
    public void OneDivergingSettingIsReportedAndTheOthersFinish()
    {
        using var task = Task();
        // The steady setting's ℓ1 weight holds θ near 0; the other's large margin pushes θ past the method's limit.
        var baseOptions = new TrainingOptions { Method = new BreaksAboveHalf(), Steps = 40, BatchSize = 6, LearningRate = 0.05, ReportEvery = 5 };
        TrainingOptions[] settings = [baseOptions with { Loss = new() { LambdaM = 1000 } }, baseOptions with { Loss = new() { LambdaM = 0, LambdaF = 0, Margin = 1000 } }];
        var outcomes = BatchedTrainer.Train(_model, task, settings);

        using var steady = outcomes[0].Run!;
        Assert.Null(outcomes[0].Diverged);
        Assert.Equal(40, steady.StepsCompleted);
        Assert.All(Values(steady), v => Assert.True(float.IsFinite(v)));

        var diverged = outcomes[1].Diverged!;
        Assert.Null(outcomes[1].Run);
        using var lastGood = diverged.LastGoodRun;
        Assert.Contains("Training diverged by step", diverged.Message);
        Assert.All(Values(lastGood), v => Assert.True(Math.Abs(v) <= 0.5, $"last good θ {v}"));
        // The same setting trained alone diverges the same way.
        Assert.Throws<TrainingDivergedException>(() => Trainer.Train(_model, task, settings[1])).LastGoodRun.Dispose();
    }

    [Fact]
    public void EachSettingIsChargedItsShareOfTheBatchTime()
    {
        using var task = Task();
        var settings = Settings(InterventionMethod.ActivScalar, TrainingOptions.DefaultSiteKinds);
        var runs = BatchedTrainer.Train(_model, task, settings).Select(o => o.Run!).ToArray();
        try
        {
            // Reports carry the batch's whole elapsed time; the clock stops right after the last one, so the whole time
            // (the share times K, to the tick each division rounds) is at least the last report's, and the share well under it.
            var share = runs[0].TrainingTime;
            var lastReport = runs[0].History[^1].Elapsed;
            Assert.All(runs, run => Assert.Equal(share, run.TrainingTime));
            Assert.InRange(share * settings.Length, lastReport - TimeSpan.FromTicks(settings.Length), TimeSpan.MaxValue);
            Assert.True(share < lastReport, $"share {share} of a batch whose last report came at {lastReport}");
        }
        finally
        {
            foreach (var run in runs) run.Dispose();
        }
    }

    [Fact]
    public void RepeatedBatchedTrainingLeaksNoTensors()
    {
        using var task = Task();
        void Cycle()
        {
            foreach (var method in new InterventionMethod[] { InterventionMethod.ActivScalar, InterventionMethod.DynScalar, new BreaksAboveHalf() })
                foreach (var outcome in BatchedTrainer.Train(_model, task, Settings(method, TrainingOptions.DefaultSiteKinds)))
                    (outcome.Run ?? outcome.Diverged!.LastGoodRun).Dispose();
        }
        TensorLeaks.AssertNoneOver(Cycle);
    }

    [Fact]
    public void CancellationGivesEverySettingItsBestParametersSoFar()
    {
        using var task = Task();
        using var source = new CancellationTokenSource();
        var losses = new List<double>[] { [], [] };
        // Full batches, so each reported loss is the loss on the whole train split.
        var baseOptions = new TrainingOptions { Steps = 1000, BatchSize = 6, LearningRate = 0.3, ReportEvery = 1 };
        TrainingOptions[] settings = [baseOptions, baseOptions with { Loss = new() { LambdaF = 0.1 } }];
        var outcomes = BatchedTrainer.Train(_model, task, settings, progress: new Reports(p =>
        {
            losses[p.Setting].Add(p.Progress.Loss);
            if (p.Setting == 1 && p.Progress.Step == 25) source.Cancel();
        }), cancellation: source.Token);
        for (int s = 0; s < 2; s++)
        {
            using var run = outcomes[s].Run!;
            Assert.True(run.Cancelled);
            Assert.Equal(25, run.StepsCompleted);
            using var iv = run.CreateIntervention(_model.Device);
            Assert.Equal(losses[s].Min(), ObjectiveFunction.Evaluate(_model, iv, task.Train, settings[s].Loss).Loss, 3);
        }
    }

    /// <summary>Reports on the training's own thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class Reports(Action<SettingProgress> report) : IProgress<SettingProgress>
    {
        public void Report(SettingProgress value) => report(value);
    }

    [Fact]
    public void SettingsThatCannotShareAStepAreRefusedByName()
    {
        using var task = Task();
        var a = new TrainingOptions { Steps = 2 };
        var e = Assert.Throws<ArgumentException>(() => BatchedTrainer.Train(_model, task, [a, a with { Steps = 3 }]));
        Assert.Contains("must share method, sites, steps", e.Message);
        Assert.False(BatchedTrainer.TrainTogether(a, a with { Method = InterventionMethod.SteerVec }));
        Assert.True(BatchedTrainer.TrainTogether(a, a with { Seed = 3, Loss = new() { Margin = 2 } }));
    }

    /// <summary>A scalar per (site, layer) whose activations turn to NaN once |θ| passes 0.5; it uses the one-by-one stacked apply.</summary>
    private sealed class BreaksAboveHalf() : ScalingTestMethod("BreaksAboveHalf", "h·(1 + β·θ), NaN for |θ| > 0.5", "scalar")
    {
        protected override Tensor Factor(Tensor theta, Tensor beta) => (beta * theta + 1).masked_fill(theta.abs().gt(0.5), float.NaN);
    }
}
