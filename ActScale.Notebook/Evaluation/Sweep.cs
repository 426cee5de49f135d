using ActScale.Objective;
using ActScale.Model;
using ActScale.Tasks;
using ActScale.Training;
using Deedle;

namespace ActScale.Evaluation;

/// <summary>The hyper-parameters a sweep can vary.</summary>
public enum SweepParameter { LambdaM, LambdaF, Margin, Steps, LearningRate }

/// <summary>
/// A grid of hyper-parameters: every combination of the lists given (a null list keeps the base options' value).
/// <see cref="Over"/> varies one parameter.
/// </summary>
public sealed record SweepGrid(double[]? LambdaM = null, double[]? LambdaF = null, double[]? Margin = null, int[]? Steps = null,
    double[]? LearningRate = null)
{
    /// <summary>A grid over one parameter's <paramref name="values"/> (steps are rounded to whole numbers).</summary>
    public static SweepGrid Over(SweepParameter parameter, IReadOnlyList<double> values) => parameter switch
    {
        SweepParameter.LambdaF => new(LambdaF: values.ToArray()),
        SweepParameter.Margin => new(Margin: values.ToArray()),
        SweepParameter.Steps => new(Steps: values.Select(v => (int)Math.Round(v)).ToArray()),
        SweepParameter.LearningRate => new(LearningRate: values.ToArray()),
        _ => new(LambdaM: values.ToArray()),
    };

    public IEnumerable<TrainingOptions> Settings(TrainingOptions baseOptions) =>
        from lm in LambdaM ?? [baseOptions.Loss.LambdaM]
        from lf in LambdaF ?? [baseOptions.Loss.LambdaF]
        from m in Margin ?? [baseOptions.Loss.Margin]
        from steps in Steps ?? [baseOptions.Steps]
        from lr in LearningRate ?? [baseOptions.LearningRate]
        select baseOptions with { Loss = baseOptions.Loss with { LambdaM = lm, LambdaF = lf, Margin = m }, Steps = steps, LearningRate = lr };
}

/// <summary>One metric row of one sweep setting (the setting's λ_M, λ_F, m, steps and learning rate plus the <see cref="MetricRow"/> fields).</summary>
public sealed record SweepRow(double LambdaM, double LambdaF, double Margin, string Run, string Method, string Split, double Beta, int Prompts,
    double FlipAccuracy, double MeanLogitDifference, double MeanSignedLogitDifference, double Kl, double L1, long ParameterCount,
    int NonTrivialSites, double TrainingSeconds, int Steps, double LearningRate, double CleanFlipAccuracy = double.NaN,
    double BothBetaSuccess = double.NaN, double Top1Guard = double.NaN)
{
    /// <summary>The row of metric <paramref name="m"/> of a run trained with <paramref name="o"/>.</summary>
    public static SweepRow From(TrainingOptions o, MetricRow m) =>
        new(o.Loss.LambdaM, o.Loss.LambdaF, o.Loss.Margin, m.Run, m.Method, m.Split, m.Beta, m.Prompts, m.FlipAccuracy, m.MeanLogitDifference,
            m.MeanSignedLogitDifference, m.Kl, m.L1, m.ParameterCount, m.NonTrivialSites, m.TrainingSeconds, o.Steps, o.LearningRate,
            m.CleanFlipAccuracy, m.BothBetaSuccess, m.Top1Guard);

    /// <summary>This row's value of <paramref name="parameter"/>.</summary>
    public double Setting(SweepParameter parameter) => parameter switch
    {
        SweepParameter.LambdaF => LambdaF,
        SweepParameter.Margin => Margin,
        SweepParameter.Steps => Steps,
        SweepParameter.LearningRate => LearningRate,
        _ => LambdaM,
    };
}

/// <summary>A setting that failed, with the reason; the other settings still ran.</summary>
public sealed record SweepFailure(double LambdaM, double LambdaF, double Margin, string Message);

/// <summary>
/// One point of a trade-off plot: a setting on a split, its effectiveness (both-β success, which is 0 for an intervention
/// that does nothing, unlike flip accuracy averaged over β = ±1, whose floor is 0.5), its minimality (‖θ‖₁) and its
/// faithfulness (mean KL over the intervened β values; the clean β = 0 row is left out).
/// </summary>
public sealed record TradeOffPoint(string Split, double Setting, double Effectiveness, double L1, double Kl);

/// <summary>All rows (train and test, each β) of a sweep, as records and as one Deedle frame, plus the failed settings.</summary>
public sealed record SweepResult(IReadOnlyList<SweepRow> Rows, IReadOnlyList<SweepFailure> Failures)
{
    /// <summary>All settings in one frame (columns LambdaM, LambdaF, Margin, Steps, LearningRate identify the setting).</summary>
    public Frame<int, string> Frame => Deedle.Frame.FromRecords(Rows);

    /// <summary>One frame per setting (train and test rows, each β), keyed by the setting's run name.</summary>
    public IReadOnlyDictionary<string, Frame<int, string>> Frames =>
        Rows.GroupBy(r => r.Run).ToDictionary(g => g.Key, g => Deedle.Frame.FromRecords(g.ToArray()));

    /// <summary>The hyper-parameter whose value differs between rows (λ_M when none or several do).</summary>
    public SweepParameter Swept =>
        Enum.GetValues<SweepParameter>().Where(p => p != SweepParameter.LambdaM)
            .FirstOrDefault(p => Rows.Select(r => r.Setting(p)).Distinct().Count() > 1, SweepParameter.LambdaM);

    /// <summary>The trade-off of each setting of <paramref name="parameter"/> on each split, ordered by setting.</summary>
    public IReadOnlyList<TradeOffPoint> TradeOffs(SweepParameter parameter) =>
        Rows.Where(r => r.Beta != 0).GroupBy(r => (r.Split, Setting: r.Setting(parameter)))
            .Select(g => new TradeOffPoint(g.Key.Split, g.Key.Setting, g.First().BothBetaSuccess, g.First().L1, g.Average(r => r.Kl)))
            .OrderBy(p => p.Setting).ToArray();
}

/// <summary>
/// Trains and evaluates one run per grid setting; a failing setting is recorded and the sweep goes on. Settings that share
/// method, sites, steps, learning rate and batch size train together in one batched step (<see cref="BatchedTrainer"/>,
/// equal to their separate trainings up to float rounding); a setting with no such partner trains alone.
/// </summary>
public static class Sweep
{
    /// <param name="onSetting">Called after each setting with a one-line summary (for a console or notebook).</param>
    public static SweepResult Run(LanguageModel model, PreparedTask task, TrainingOptions baseOptions, SweepGrid grid,
        EvaluationOptions? evaluation = null, IProgress<string>? onSetting = null, CancellationToken cancellation = default)
    {
        evaluation ??= new EvaluationOptions();
        var settings = grid.Settings(baseOptions).ToArray();
        var outcomes = new SettingResult?[settings.Length];
        var valid = new List<int>();
        for (int i = 0; i < settings.Length; i++)
        {
            try { settings[i].Check(); valid.Add(i); }
            catch (ArgumentException e) { outcomes[i] = Failed(settings[i], e, onSetting); }
        }
        foreach (var group in Batches(settings, valid))
        {
            if (cancellation.IsCancellationRequested) break;
            var results = group.Length == 1
                ? [Settle(model, task, settings[group[0]], () => Trainer.Train(model, task, settings[group[0]], Name(settings[group[0]]), cancellation: cancellation), evaluation, onSetting)]
                : TrainTogether(model, task, settings, group, evaluation, onSetting, cancellation);
            for (int j = 0; j < group.Length; j++) outcomes[group[j]] = results[j];
        }
        var done = outcomes.OfType<SettingResult>().ToArray();
        return new SweepResult(done.SelectMany(r => r.Rows).ToArray(), done.Select(r => r.Failure).OfType<SweepFailure>().ToArray());
    }

    /// <summary>The rows or the failure of one setting.</summary>
    private sealed record SettingResult(IReadOnlyList<SweepRow> Rows, SweepFailure? Failure);

    private static string Name(TrainingOptions o) =>
        $"{o.Method} λM={o.Loss.LambdaM:G3} λF={o.Loss.LambdaF:G3} m={o.Loss.Margin:G3} steps={o.Steps} lr={o.LearningRate:G3}";

    /// <summary>The indices of <paramref name="valid"/> settings grouped by <see cref="BatchedTrainer.TrainTogether"/>, in grid order.</summary>
    private static IEnumerable<int[]> Batches(TrainingOptions[] settings, List<int> valid)
    {
        var groups = new List<List<int>>();
        foreach (int i in valid)
        {
            var group = groups.FirstOrDefault(g => BatchedTrainer.TrainTogether(settings[g[0]], settings[i]));
            if (group is null) groups.Add([i]);
            else group.Add(i);
        }
        return groups.Select(g => g.ToArray());
    }

    private static SettingResult[] TrainTogether(LanguageModel model, PreparedTask task, TrainingOptions[] settings, int[] group,
        EvaluationOptions evaluation, IProgress<string>? onSetting, CancellationToken cancellation)
    {
        var batch = group.Select(i => settings[i]).ToArray();
        IReadOnlyList<SettingOutcome> trained;
        try
        {
            trained = BatchedTrainer.Train(model, task, batch, batch.Select(Name).ToArray(), cancellation: cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return batch.Select(o => Failed(o, e, onSetting)).ToArray();
        }
        return trained.Select(t => t.Diverged is { } diverged
            ? Failed(t.Options, diverged, onSetting)
            : Settle(model, task, t.Options, () => t.Run!, evaluation, onSetting)).ToArray();
    }

    /// <summary>The rows of the run <paramref name="train"/> gives, or the failure of training or evaluating it.</summary>
    private static SettingResult Settle(LanguageModel model, PreparedTask task, TrainingOptions options, Func<InterventionRun> train,
        EvaluationOptions evaluation, IProgress<string>? onSetting)
    {
        try
        {
            return Evaluated(model, task, options, train(), evaluation, onSetting);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Failed(options, e, onSetting);
        }
    }

    /// <summary>Evaluates <paramref name="run"/> on every split, then frees it.</summary>
    private static SettingResult Evaluated(LanguageModel model, PreparedTask task, TrainingOptions options, InterventionRun run,
        EvaluationOptions evaluation, IProgress<string>? onSetting)
    {
        using var evaluated = Experiment.Evaluate(model, run, task, evaluation);
        onSetting?.Report($"{run.Name}: done in {run.TrainingTime.TotalSeconds:F1}s");
        return new SettingResult(evaluated.Metrics.Select(r => SweepRow.From(options, r)).ToArray(), null);
    }

    private static SettingResult Failed(TrainingOptions options, Exception e, IProgress<string>? onSetting)
    {
        if (e is TrainingDivergedException diverged) diverged.LastGoodRun.Dispose();
        onSetting?.Report($"{Name(options)}: FAILED: {e.Message}");
        return new SettingResult([], new SweepFailure(options.Loss.LambdaM, options.Loss.LambdaF, options.Loss.Margin, e.Message));
    }
}
