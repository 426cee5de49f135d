using System.Diagnostics;
using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Tests.Support;
using ActScale.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActScale.Tests.Training;

/// <summary>Training, evaluation, cancellation, divergence, determinism and resource use on the tiny model.</summary>
public class TrainingTests(TinyModelFixture fixture, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;

    private PreparedTask Task() => PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);

    private static float[] Values(InterventionRun run) => run.Parameters.cpu().data<float>().ToArray();

    [Theory]
    [InlineData("ActivScalar")]
    [InlineData("SteerVec")]
    [InlineData("DynScalar")]
    public void TrainingLowersTheLossAndEvaluatesOnTrainAndTest(string name)
    {
        var method = InterventionRegistry.Get(name);
        using var task = Task();
        var options = new TrainingOptions { Method = method, Steps = 60, LearningRate = 0.05, BatchSize = 6, ReportEvery = 10 };
        var reports = new List<TrainingProgress>();
        var clock = Stopwatch.StartNew();
        using var run = Trainer.Train(_model, task, options, progress: new SyncProgress<TrainingProgress>(reports.Add));
        output.WriteLine($"{method}: 60 steps in {clock.Elapsed.TotalSeconds:F2}s ({run.ParameterCount} parameters)");
        Assert.Equal(6, reports.Count);
        Assert.Equal(60, reports[^1].Step);
        Assert.True(reports[^1].Loss < reports[0].Loss, $"loss {reports[0].Loss} → {reports[^1].Loss}");
        Assert.False(run.Cancelled);

        var rows = Evaluator.Evaluate(_model, run, task);
        Assert.Equal(["train", "train", "train", "test", "test", "test"], rows.Select(r => r.Split));
        Assert.Equal([0.0, 1.0, -1.0, 0.0, 1.0, -1.0], rows.Select(r => r.Beta));
        Assert.All(rows, r => Assert.InRange(r.FlipAccuracy, 0, 1));
        var frame = Evaluator.ToFrame(rows);
        Assert.Equal(6, frame.RowCount);
        Assert.Contains("FlipAccuracy", frame.ColumnKeys);
        Assert.Contains("Kl", frame.ColumnKeys);

        var heatmap = run.Heatmap();
        Assert.Equal("L0 attn_out", heatmap.RowLabels[0]);
        Assert.Equal("L0 mlp_out", heatmap.RowLabels[1]);
        Assert.Equal("L1 attn_out", heatmap.RowLabels[2]);
        if (method.IsPositional) Assert.Equal(task.TokenLabels, heatmap.ColumnLabels);
        Assert.Equal(0.0, heatmap.Neutral);
    }

    [Fact]
    public void ActivScalarMovesTheLogitDifferenceBothWays()
    {
        using var task = Task();
        var clock = Stopwatch.StartNew();
        using var run = Trainer.Train(_model, task, new TrainingOptions { Steps = 60, LearningRate = 0.05, BatchSize = 6, Loss = new() { LambdaM = 0, LambdaF = 0.1 } });
        output.WriteLine($"ActivScalar 60 full-batch steps: {clock.Elapsed.TotalSeconds:F2}s");
        var train = Evaluator.Evaluate(_model, run, task).Where(r => r.Split == "train").ToArray();
        var up = train.Single(r => r.Beta == 1);
        var down = train.Single(r => r.Beta == -1);
        Assert.True(up.MeanLogitDifference > up.CleanMeanLogitDifference + 0.02, $"β=+1: LD {up.MeanLogitDifference} vs clean {up.CleanMeanLogitDifference}");
        Assert.True(down.MeanLogitDifference < down.CleanMeanLogitDifference - 0.02, $"β=−1: LD {down.MeanLogitDifference} vs clean {down.CleanMeanLogitDifference}");
    }

    [Fact]
    public void SameSeedGivesBitIdenticalParameters()
    {
        using var task = Task();
        var options = new TrainingOptions { Steps = 15, BatchSize = 3, Seed = 5 };
        using var a = Trainer.Train(_model, task, options);
        using var b = Trainer.Train(_model, task, options);
        Assert.Equal(Values(a), Values(b));
        using var c = Trainer.Train(_model, task, options with { Seed = 6 });
        Assert.NotEqual(Values(a), Values(c));
    }

    [Fact]
    public void CancellationReturnsTheBestParametersSoFar()
    {
        using var task = Task();
        using var source = new CancellationTokenSource();
        var losses = new List<double>();
        // Full batches, so every step's loss is the loss on the whole train split.
        var options = new TrainingOptions { Steps = 1000, BatchSize = 6, LearningRate = 0.3, ReportEvery = 1 };
        using var run = Trainer.Train(_model, task, options, progress: new SyncProgress<TrainingProgress>(p =>
        {
            losses.Add(p.Loss);
            if (p.Step == 25) source.Cancel();
        }), cancellation: source.Token);
        Assert.True(run.Cancelled);
        Assert.Equal(25, run.StepsCompleted);
        using var iv = run.CreateIntervention(_model.Device);
        var terms = ObjectiveFunction.Evaluate(_model, iv, task.Train, options.Loss);
        Assert.Equal(losses.Min(), terms.Loss, 3);
    }

    [Fact]
    public void DivergenceStopsWithTheLastGoodParameters()
    {
        using var task = Task();
        var options = new TrainingOptions { Method = new Exploding(), Steps = 50, BatchSize = 6, LearningRate = 1, ReportEvery = 5 };
        var e = Assert.Throws<TrainingDivergedException>(() => Trainer.Train(_model, task, options));
        using var run = e.LastGoodRun;
        Assert.Contains("Training diverged by step", e.Message);
        Assert.Contains("smaller LearningRate", e.Message);
        Assert.All(Values(run), v => Assert.True(float.IsFinite(v)));
        using var iv = run.CreateIntervention(_model.Device);
        Assert.True(float.IsFinite((float)ObjectiveFunction.Evaluate(_model, iv, task.Train, new LossSettings()).Loss));
    }

    [Fact]
    public void TwoTrainingsOnOneModelAtOnceAreRefused()
    {
        using var task = Task();
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = System.Threading.Tasks.Task.Run(() =>
        {
            using var run = Trainer.Train(_model, task, new TrainingOptions { Steps = 2, ReportEvery = 1 }, progress: new SyncProgress<TrainingProgress>(_ =>
            {
                started.Set();
                release.Wait();
            }));
        });
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)));
        var e = Assert.Throws<InvalidOperationException>(() => Trainer.Train(_model, task, new TrainingOptions { Steps = 1 }));
        Assert.Contains("already running on model", e.Message);
        release.Set();
        first.Wait();
        using var after = Trainer.Train(_model, task, new TrainingOptions { Steps = 1 });
    }

    [Fact]
    public void PositionalMethodOnMixedLengthsIsRefusedWithTheLengths()
    {
        PromptExample[] examples = [new("The capital of France is", " Paris", " Rome", "train"), new("Indeed, the capital of Spain is", " Madrid", " Rome", "train")];
        using var task = PreparedTask.Prepare(_model, examples, samePromptLength: false);
        var e = Assert.Throws<TaskDataException>(() => Trainer.Train(_model, task, new TrainingOptions { Steps = 1 }));
        Assert.Contains("5 tokens (1 prompts), 7 tokens (1 prompts)", e.Message);
        using var dyn = Trainer.Train(_model, task, new TrainingOptions { Method = InterventionMethod.DynScalar, Steps = 2 });
        Assert.Null(dyn.PromptLength);
    }

    [Fact]
    public void RepeatedTrainAndEvaluateLeaksNoTensors()
    {
        using var task = Task();
        void Cycle()
        {
            foreach (var method in InterventionRegistry.All.Take(3))
            {
                using var run = Trainer.Train(_model, task, new TrainingOptions { Method = method, Steps = 4, BatchSize = 3, ReportEvery = 2 });
                Evaluator.Evaluate(_model, run, task, new EvaluationOptions([1.0, -1.0, 0.0]));
                run.Heatmap();
                run.NonTrivialSites(0.1);
            }
        }
        TensorLeaks.AssertNoneOver(Cycle);
    }

    [Fact]
    public void SweepReportsAFailingSettingAndCompletesTheOthers()
    {
        using var task = Task();
        var result = Sweep.Run(_model, task, new TrainingOptions { Steps = 3, BatchSize = 3 }, new SweepGrid([0.0, -1.0, 1e-2]));
        Assert.Single(result.Failures);
        Assert.Equal(-1.0, result.Failures[0].LambdaM);
        Assert.Contains("LambdaM must be ≥ 0 and ≤ 1000000; got -1", result.Failures[0].Message);
        Assert.Equal(2 * 6, result.Rows.Count);
        Assert.Equal(12, result.Frame.RowCount);
        Assert.Equal(2, result.Frames.Count);
        Assert.All(result.Frames.Values, f => Assert.Equal(6, f.RowCount));
        Assert.Equal([0.0, 1e-2], result.Rows.Select(r => r.LambdaM).Distinct());
    }

    [Fact]
    public void MethodComparisonTrainsEachMethodOnOneLength()
    {
        var examples = TinyModelFixture.SameLengthTask().Append(new PromptExample("Indeed, the capital of Spain is", " Madrid", " Rome", "train")).ToArray();
        using var result = MethodComparison.Run(_model, examples, new TrainingOptions { Steps = 3, BatchSize = 3 },
            perMethod: new Dictionary<InterventionMethod, TrainingOptions> { [InterventionMethod.DynScalar] = new TrainingOptions { Steps = 2, LearningRate = 1e-3 } });
        Assert.Equal(3, result.Runs.Count);
        // 3 methods × (train, test) × β 0, ±1, plus DynScalar on the dropped prompt of another length (train, β 0, ±1)
        Assert.Equal(21, result.Rows.Count);
        var otherLength = result.Rows.Where(r => r.Split == "other-lengths train").ToList();
        Assert.Equal(3, otherLength.Count);
        Assert.All(otherLength, r => Assert.Equal("DynScalar", r.Method));
        Assert.All(otherLength, r => Assert.Equal(1, r.Prompts));
        Assert.Contains("dropped 1 train prompts of 7 tokens", result.FilterNote);
        Assert.Equal(1e-3, result.Runs[2].Options.LearningRate);
        Assert.Equal(InterventionMethod.DynScalar, result.Runs[2].Method);
        Assert.Equal(21, result.Frame.RowCount);
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
