using ActScale.Hooks;
using ActScale.Notebook;
using ActScale.Objective;
using ActScale.Tests.Notebook;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Reliability;

/// <summary>
/// Each limit is checked once, in the library (<see cref="SettingRange"/> beside the setting); the API and the magics
/// refuse the same values with the same words, naming the setting (and, in a notebook, the option).
/// </summary>
public sealed class OptionLimitTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    public static TheoryData<string, Func<TrainingOptions, TrainingOptions>, string> Refused => new()
    {
        { "lr 1e9", o => o with { LearningRate = 1e9 }, "LearningRate must be > 0 and ≤ 1; got 1000000000." },
        { "lr 100", o => o with { LearningRate = 100 }, "LearningRate must be > 0 and ≤ 1; got 100." },
        { "lr NaN", o => o with { LearningRate = double.NaN }, "LearningRate must be a finite number > 0 and ≤ 1; got NaN." },
        { "margin -1", o => o with { Loss = new() { Margin = -1 } }, "Margin must be > 0 and ≤ 1000000; got -1." },
        { "margin 0", o => o with { Loss = new() { Margin = 0 } }, "Margin must be > 0" },
        { "margin ∞", o => o with { Loss = new() { Margin = double.PositiveInfinity } }, "Margin must be a finite number > 0" },
        { "margin 1e39", o => o with { Loss = new() { Margin = 1e39 } }, "Margin must be > 0 and ≤ 1000000; got 1E+39." },
        { "λF ∞", o => o with { Loss = new() { LambdaF = double.PositiveInfinity } }, "LambdaF must be a finite number ≥ 0" },
        { "λM NaN", o => o with { Loss = new() { LambdaM = double.NaN } }, "LambdaM must be a finite number ≥ 0" },
        { "unknown site kind", o => o with { SiteKinds = [SiteKind.AttnOut, (SiteKind)9] }, "SiteKinds holds 9, which is not a site kind" },
        { "seed -1", o => o with { Seed = -1 }, "Seed must be ≥ 0 and ≤ 2147483646; got -1." },
        { "seed int.MaxValue", o => o with { Seed = int.MaxValue }, "Seed must be ≥ 0 and ≤ 2147483646; got 2147483647. Seeds outside this range would repeat" },
        { "seed int.MinValue", o => o with { Seed = int.MinValue }, "Seed must be ≥ 0 and ≤ 2147483646; got -2147483648." },
        { "steps -1", o => o with { Steps = -1 }, "Steps must be ≥ 0" },
        { "batch 0", o => o with { BatchSize = 0 }, "BatchSize must be ≥ 1" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void The_API_refuses_by_name(string what, Func<TrainingOptions, TrainingOptions> set, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => set(new TrainingOptions()).Check());
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("smaller LearningRate", e.Message + what);
    }

    [Fact]
    public async Task The_train_magic_refuses_with_the_library_words()
    {
        (string Typed, string Message)[] cases =
        [
            ("--lr 100", "--lr: LearningRate must be > 0 and ≤ 1; got 100."),
            ("--lr 1e9", "--lr: LearningRate must be > 0 and ≤ 1; got 1000000000."),
            ("--margin -1", "--margin: Margin must be > 0 and ≤ 1000000; got -1."),
            ("--margin 1e39", "--margin: Margin must be > 0 and ≤ 1000000; got 1E+39."),
            ("--lambda-f Infinity", "--lambda-f needs a number, not 'Infinity'"),
            ("--lambda-m NaN", "--lambda-m needs a number, not 'NaN'"),
            ("--sites banana", "--sites: Unknown site kind 'banana'"),
            ("--seed -1", "--seed: Seed must be ≥ 0 and ≤ 2147483646; got -1."),
            ("--seed -2147483648", "--seed: Seed must be ≥ 0 and ≤ 2147483646; got -2147483648."),
            ("--seed 2147483647", "--seed: Seed must be ≥ 0 and ≤ 2147483646; got 2147483647."),
            ("--steps 1000001", "--steps: Steps must be ≥ 0 and ≤ 1000000; got 1000001."),
            ("--first-position -1", "--first-position: FirstPosition must be ≥ 0; got -1."),
        ];
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var kernel = new NotebookKernel();
        Assert.True((await kernel.SubmitAsync($"#!actscale load --model \"{folder.Path}\" --device cpu")).Succeeded);
        foreach (var (typed, message) in cases)
        {
            var result = await kernel.SubmitAsync("#!actscale train " + typed);
            Assert.True(result.Failure is not null, typed);
            Assert.Contains(message, result.Failure!.Message);
        }
    }

    /// <summary>The first position's upper limit is the prompt length, known once there is data.</summary>
    [Fact]
    public async Task The_train_magic_refuses_a_first_position_past_the_prompt()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var kernel = new NotebookKernel();
        foreach (var setup in new[] { $"load --model \"{folder.Path}\" --device cpu", "data --train 8 --test 4" })
            Assert.True((await kernel.SubmitAsync("#!actscale " + setup)).Succeeded, setup);
        var result = await kernel.SubmitAsync("#!actscale train --steps 1 --first-position 1000");
        Assert.True(result.Failure is not null);
        Assert.Contains("FirstPosition 1000 leaves nothing to intervene on", result.Failure!.Message);
        Assert.Contains("(--first-position)", result.Failure.Message);
    }

    [Fact]
    public void The_option_help_states_the_limits()
    {
        Assert.Contains("Must be > 0 and ≤ 1.", CommandCatalog.TrainingArgs.LearningRate.Help);
        Assert.Contains("Must be ≥ 0 and ≤ 2147483646.", CommandCatalog.TrainingArgs.Seed.Help);
        Assert.Contains("Must be > 0 and ≤ 1000000.", CommandCatalog.TrainArgs.Margin.Help);
    }

    [Fact]
    public void Seeds_at_both_ends_of_the_range_give_distinct_runs()
    {
        var model = fixture.Model;
        using var task = PreparedTask.Prepare(model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        int[] seeds = [0, 1, 2, int.MaxValue - 1];
        var parameters = seeds.Select(seed =>
        {
            using var run = Trainer.Train(model, task, new TrainingOptions { Steps = 3, BatchSize = 2, Seed = seed, LearningRate = 0.1 });
            return run.Parameters.data<float>().ToArray();
        }).ToArray();
        for (int a = 0; a < parameters.Length; a++)
            for (int b = a + 1; b < parameters.Length; b++)
                Assert.False(parameters[a].SequenceEqual(parameters[b]), $"seeds {seeds[a]} and {seeds[b]} gave the same run");
    }

    [Fact]
    public void A_million_steps_start_at_once_and_stop_at_the_next_step()
    {
        var model = fixture.Model;
        var prompts = Enumerable.Range(0, 200).Select(i => TinyModelFixture.SameLengthTask()[i % 6]).ToArray();
        using var task = PreparedTask.Prepare(model, prompts, samePromptLength: true);
        using var cancel = new CancellationTokenSource();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        // Cancelled at the first report: the whole schedule (2·10⁸ indices, 1.6 GB) drawn up front would take far longer.
        using var run = Trainer.Train(model, task, new TrainingOptions { Steps = 1_000_000, BatchSize = 200, ReportEvery = 1 },
            progress: new Reporting(_ => cancel.Cancel()), cancellation: cancel.Token);
        Assert.True(run.Cancelled);
        Assert.Equal(1, run.StepsCompleted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        // One block of the schedule (2²⁰ indices, 8 MB) is drawn, not the 1.6 GB of all of it.
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(allocated < 64 << 20, $"allocated {allocated >> 20} MB");
    }

    private sealed class Reporting(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
