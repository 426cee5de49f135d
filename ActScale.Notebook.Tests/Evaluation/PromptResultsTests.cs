using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Evaluation;

/// <summary>
/// Per-prompt results are the metric rows taken apart: on the shipped model's BABA prompts, where a short ActivScalar
/// run steers some prompts and not others, every share in the rows is the mean of the matching per-prompt flag.
/// </summary>
public sealed class PromptResultsTests
{
    [Fact]
    public void Per_prompt_flags_average_exactly_to_the_metric_rows_of_every_split()
    {
        using var model = LanguageModel.Load(Path.Combine(RepoPaths.Data, "models", "actscale-capitals-ioi"), "cpu");
        var selection = ActScale.Tasks.TaskSelector.Select(model, "ioi-baba", 64, 64, 0, Path.Combine(RepoPaths.Data, "lists"));
        using var task = PreparedTask.Prepare(model, selection.Examples, samePromptLength: true);
        using var run = Trainer.Train(model, task, new TrainingOptions { Method = InterventionMethod.ActivScalar, Steps = 20 });

        var rows = Evaluator.Evaluate(model, run, task, new EvaluationOptions(BatchSize: run.Options.BatchSize));
        var results = PromptResults.Measure(model, run, task);

        Assert.Equal(["train", "test"], results.Select(r => r.Split).Distinct());
        foreach (var split in new[] { "train", "test" })
        {
            var mine = results.Where(r => r.Split == split).ToArray();
            MetricRow At(double beta) => rows.Single(r => r.Split == split && r.Beta == beta);
            Assert.Equal(Enumerable.Range(0, task.Split(split).Count), mine.Select(r => r.Index));
            Assert.Equal(task.Split(split).Examples.Select(e => e.Prompt), mine.Select(r => r.Prompt));
            Assert.Equal(At(1).BothBetaSuccess, Share(mine, r => r.BothBetaSuccess));
            Assert.Equal(At(1).FlipAccuracy, Share(mine, r => r.FlipsPlus));
            Assert.Equal(At(-1).FlipAccuracy, Share(mine, r => r.FlipsMinus));
            Assert.Equal(At(0).FlipAccuracy, Share(mine, r => r.CleanPrefersCorrect));
            Assert.Equal(At(1).Top1Guard, Share(mine, r => r.AnswerOnTopPlus));
            Assert.Equal(At(-1).Top1Guard, Share(mine, r => r.AnswerOnTopMinus));
            Assert.Equal(At(1).Kl, mine.Average(r => r.KlPlus));
            Assert.Equal(At(-1).Kl, mine.Average(r => r.KlMinus));
            Assert.Equal(At(1).MeanLogitDifference, mine.Average(r => r.LogitDifferencePlus));
            Assert.Equal(At(-1).MeanLogitDifference, mine.Average(r => r.LogitDifferenceMinus));
        }
        // Only a run that steers some prompts and not others can tell a right per-prompt flag from a wrong one.
        var test = results.Where(r => r.Split == "test").ToArray();
        Assert.Contains(test, r => r.BothBetaSuccess);
        Assert.Contains(test, r => !r.BothBetaSuccess);

        var frame = PromptResults.ToFrame(results);
        Assert.Equal(results.Count, frame.RowCount);
        Assert.Contains(nameof(PromptResult.BothBetaSuccess), frame.ColumnKeys);
    }

    [Fact]
    public void One_split_can_be_measured_alone_and_an_unknown_one_is_named()
    {
        using var folder = TinyCheckpoints.NewFolder();
        using var model = ModelFixtures.LoadTinyGpt2(folder);
        using var tiny = new TinyActivScalarRun(model, steps: 2);

        Assert.Equal(["test", "test"], PromptResults.Measure(model, tiny.Run, tiny.Task, ["test"]).Select(r => r.Split));
        var error = Assert.Throws<ActScale.Tasks.TaskDataException>(() => PromptResults.Measure(model, tiny.Run, tiny.Task, ["dev"]));
        Assert.Contains("no \"dev\" split", error.Message);
    }

    [Fact]
    public void Worst_first_puts_every_failure_before_every_success_the_furthest_from_steering_first()
    {
        PromptResult Result(int index, double plus, double minus) =>
            new("test", index, $"p{index}", " a", " b", "", 0, plus, minus, 0, 0, " a", " b", true, true);
        var ordered = PromptResults.WorstFirst([Result(0, 2, -2), Result(1, 3, 0.5), Result(2, -1, -4), Result(3, 1, -1), Result(4, 0, -3)]);

        Assert.Equal([2, 1, 4, 3, 0], ordered.Select(r => r.Index));
        Assert.Equal([false, false, false, true, true], ordered.Select(r => r.BothBetaSuccess));
    }

    private static double Share(IReadOnlyCollection<PromptResult> results, Func<PromptResult, bool> holds) =>
        results.Count(holds) / (double)results.Count;
}
