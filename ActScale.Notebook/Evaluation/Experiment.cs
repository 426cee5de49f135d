using ActScale.Model;
using ActScale.Objective;
using ActScale.Training;

namespace ActScale.Evaluation;

/// <summary>A trained run with its metrics on every split of the task it was trained on; disposing it frees the run.</summary>
public sealed record EvaluatedRun(InterventionRun Run, IReadOnlyList<MetricRow> Metrics) : IDisposable
{
    public void Dispose() => Run.Dispose();
}

/// <summary>The train → evaluate sequence that the comparison, the sweep and the notebook's train share.</summary>
public static class Experiment
{
    /// <summary>Trains one run and evaluates it on every split; a run whose evaluation fails is disposed, not returned.</summary>
    public static EvaluatedRun TrainAndEvaluate(LanguageModel model, PreparedTask task, TrainingOptions options, string? name = null,
        EvaluationOptions? evaluation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var run = Trainer.Train(model, task, options, name, progress, cancellation);
        return Evaluate(model, run, task, evaluation);
    }

    /// <summary>Evaluates <paramref name="run"/> (e.g. a diverged run's last good parameters); disposes it if that fails.</summary>
    public static EvaluatedRun Evaluate(LanguageModel model, InterventionRun run, PreparedTask task, EvaluationOptions? evaluation = null)
    {
        try
        {
            return new EvaluatedRun(run, Evaluator.Evaluate(model, run, task, evaluation ?? new EvaluationOptions(BatchSize: run.Options.BatchSize)));
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }
}
