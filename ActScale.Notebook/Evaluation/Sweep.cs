using ActScale.Objective;
using ActScale.Model;
using ActScale.Tasks;
using ActScale.Training;
using Deedle;

namespace ActScale.Evaluation;

/// <summary>A grid of hyper-parameters: every combination of λ_M, λ_F and margin (null lists keep the base options' value).</summary>
public sealed record SweepGrid(double[] LambdaM, double[]? LambdaF = null, double[]? Margin = null)
{
    public IEnumerable<TrainingOptions> Settings(TrainingOptions baseOptions) =>
        from lm in LambdaM
        from lf in LambdaF ?? [baseOptions.Loss.LambdaF]
        from m in Margin ?? [baseOptions.Loss.Margin]
        select baseOptions with { Loss = baseOptions.Loss with { LambdaM = lm, LambdaF = lf, Margin = m } };
}

/// <summary>One metric row of one sweep setting (the setting's λ_M, λ_F, m plus the <see cref="MetricRow"/> fields).</summary>
public sealed record SweepRow(double LambdaM, double LambdaF, double Margin, string Run, string Method, string Split, double Beta, int Prompts,
    double FlipAccuracy, double MeanLogitDifference, double MeanSignedLogitDifference, double Kl, double L1, long ParameterCount,
    int NonTrivialSites, double TrainingSeconds);

/// <summary>A setting that failed, with the reason; the other settings still ran.</summary>
public sealed record SweepFailure(double LambdaM, double LambdaF, double Margin, string Message);

/// <summary>All rows (train and test, each β) of a sweep, as records and as one Deedle frame, plus the failed settings.</summary>
public sealed record SweepResult(IReadOnlyList<SweepRow> Rows, IReadOnlyList<SweepFailure> Failures)
{
    /// <summary>All settings in one frame (columns LambdaM, LambdaF, Margin identify the setting).</summary>
    public Frame<int, string> Frame => Deedle.Frame.FromRecords(Rows);

    /// <summary>One frame per setting (train and test rows, each β), keyed by the setting's run name.</summary>
    public IReadOnlyDictionary<string, Frame<int, string>> Frames =>
        Rows.GroupBy(r => r.Run).ToDictionary(g => g.Key, g => Deedle.Frame.FromRecords(g.ToArray()));
}

/// <summary>Trains and evaluates one run per grid setting; a failing setting is recorded and the sweep goes on.</summary>
public static class Sweep
{
    /// <param name="onSetting">Called after each setting with a one-line summary (for a console or notebook).</param>
    public static SweepResult Run(LanguageModel model, PreparedTask task, TrainingOptions baseOptions, SweepGrid grid,
        EvaluationOptions? evaluation = null, IProgress<string>? onSetting = null, CancellationToken cancellation = default)
    {
        var rows = new List<SweepRow>();
        var failures = new List<SweepFailure>();
        foreach (var options in grid.Settings(baseOptions))
        {
            if (cancellation.IsCancellationRequested) break;
            var name = $"{options.Method} λM={options.Loss.LambdaM:G3} λF={options.Loss.LambdaF:G3} m={options.Loss.Margin:G3}";
            try
            {
                using var run = Trainer.Train(model, task, options, name, cancellation: cancellation);
                foreach (var r in Evaluator.Evaluate(model, run, task, evaluation))
                    rows.Add(new SweepRow(options.Loss.LambdaM, options.Loss.LambdaF, options.Loss.Margin, r.Run, r.Method, r.Split, r.Beta, r.Prompts,
                        r.FlipAccuracy, r.MeanLogitDifference, r.MeanSignedLogitDifference, r.Kl, r.L1, r.ParameterCount, r.NonTrivialSites, r.TrainingSeconds));
                onSetting?.Report($"{name}: done in {run.TrainingTime.TotalSeconds:F1}s");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (e is TrainingDivergedException diverged) diverged.LastGoodRun.Dispose();
                failures.Add(new SweepFailure(options.Loss.LambdaM, options.Loss.LambdaF, options.Loss.Margin, e.Message));
                onSetting?.Report($"{name}: FAILED: {e.Message}");
            }
        }
        return new SweepResult(rows, failures);
    }
}
