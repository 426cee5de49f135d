using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Runtime;
using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>What one setting of a batched training ended with: its run, or the divergence (whose LastGoodRun the caller then owns).</summary>
public sealed record SettingOutcome(TrainingOptions Options, InterventionRun? Run, TrainingDivergedException? Diverged);

/// <summary>A progress report of setting <paramref name="Setting"/> (its index in the list trained).</summary>
public sealed record SettingProgress(int Setting, TrainingProgress Progress);

/// <summary>
/// Trains K settings that differ only in their seeds and loss weights (λ_M, λ_F, margin, ℓ1 reduction) in one batched
/// step: one parameter tensor [K, ...], each setting's minibatch (drawn from its own seed's schedule) a block of the
/// doubled batch, one clean reference of the split shared by every setting, and one Adam over the stacked tensor. Adam is element-wise
/// and its bias correction depends only on the step count, which the settings share, and the loss is the sum of the
/// settings' losses, so every setting gets the parameters and history its own <see cref="Trainer"/> run would
/// (to float rounding: the batched matrix products sum in another order). Best and last-good parameters are tracked
/// per setting; a setting that diverges is reported in its outcome while the others train on.
/// </summary>
public static class BatchedTrainer
{
    /// <summary>Whether two settings can train in one batch: the same method, sites, steps, learning rate, batch size, report interval and first position.</summary>
    public static bool TrainTogether(TrainingOptions a, TrainingOptions b) =>
        a.Method == b.Method && a.SiteKinds.SequenceEqual(b.SiteKinds) && a.Steps == b.Steps && a.LearningRate == b.LearningRate
        && a.BatchSize == b.BatchSize && a.ReportEvery == b.ReportEvery && a.FirstPosition == b.FirstPosition;

    /// <summary>
    /// Trains every setting of <paramref name="settings"/> (which must all <see cref="TrainTogether"/>) on <paramref name="task"/>;
    /// outcomes are in the settings' order and the caller disposes their runs. Cancellation gives every setting still
    /// training its best parameters so far, marked cancelled. Each run's TrainingTime is its share (1/K) of the batch's time.
    /// </summary>
    public static IReadOnlyList<SettingOutcome> Train(LanguageModel model, PreparedTask task, IReadOnlyList<TrainingOptions> settings,
        IReadOnlyList<string>? names = null, IProgress<SettingProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (settings.Count == 0) throw new ArgumentException("Give at least one setting to train.");
        if (names is not null && names.Count != settings.Count)
            throw new ArgumentException($"Give one name per setting: {settings.Count} settings but {names.Count} names.");
        var first = settings[0];
        foreach (var options in settings)
        {
            options.Check();
            if (!TrainTogether(first, options))
                throw new ArgumentException($"Settings trained together must share method, sites, steps, learning rate, batch size, report interval and first position; " +
                    $"'{first}' and '{options}' differ. Train them in separate batches.");
        }
        Trainer.CheckTask(model, task, first);
        using (Trainer.Reserve(model))
            return DeviceMemory.Translate(() => Run(model, task, settings, names ?? settings.Select(o => o.ToString()).ToArray(), progress, cancellation),
                "Training", model.Device.ToString(), Math.Min(first.BatchSize, task.Train.Count) * settings.Count);
    }

    private static IReadOnlyList<SettingOutcome> Run(LanguageModel model, PreparedTask task, IReadOnlyList<TrainingOptions> settings,
        IReadOnlyList<string> names, IProgress<SettingProgress>? progress, CancellationToken cancellation)
    {
        using var runScope = NewDisposeScope();
        var first = settings[0];
        var device = model.Device;
        var train = task.Train;
        int k = settings.Count, steps = first.Steps;
        int batch = Math.Min(first.BatchSize, train.Count);
        var seeds = settings.Select(o => o.Seed).Distinct().ToArray();
        var schedules = seeds.Select(seed => new MinibatchSchedule(train.Count, batch, steps, seed, device)).ToArray();
        var scheduleOf = settings.Select(o => Array.IndexOf(seeds, o.Seed)).ToArray();
        var losses = settings.Select(o => o.Loss).ToArray();

        var layout = InterventionLayout.For(first.SiteKinds, model.Config, task.PromptLength, first.FirstPosition);
        using var stacked = new SettingBatch(first.Method, layout, k, device);
        using var loop = new TrainingLoop(stacked.Parameters, settingShape: [k], first.LearningRate);
        var histories = settings.Select(_ => new List<TrainingProgress>()).ToArray();
        var diverged = new TrainingDivergedException?[k];
        // The clean side of the faithfulness term depends only on the prompts: one reference for every setting, counted in the time.
        using var reference = new SplitReference(model.Transformer, train, batch);

        InterventionRun Snapshot(int s, Tensor values, bool wasCancelled) => new(names[s], settings[s], model.Identity, layout.LayerCount,
            layout.Width, task.PromptLength, task.TokenLabels, values[s].detach().clone().DetachFromDisposeScope(), wasCancelled, loop.Step,
            loop.Elapsed / k, histories[s].ToArray(), layout.HeadCount);

        StepLoss Objective(int step)
        {
            var rows = schedules.Select(s => s.Rows(step)).ToArray();
            var (loss, effectiveness, faithfulness, l1) = BatchedObjective.Compute(model.Transformer, stacked, train, rows, scheduleOf, reference, losses);
            return new StepLoss(loss.sum(), loss, effectiveness, faithfulness, l1);
        }

        try
        {
            loop.Run(steps, first.ReportEvery, Objective, Report, cancellation);
        }
        finally
        {
            foreach (var schedule in schedules) schedule.Dispose();
        }
        return Enumerable.Range(0, k).Select(s => diverged[s] is { } e
            ? new SettingOutcome(settings[s], null, e)
            : new SettingOutcome(settings[s], Snapshot(s, loop.Result, loop.Cancelled), null)).ToArray();

        // A setting that diverged is recorded and reported no more; the batch trains on while any setting is left.
        bool Report(float[] terms)
        {
            var elapsed = loop.Elapsed;
            for (int s = 0; s < k; s++)
            {
                if (diverged[s] is not null) continue;
                var report = TrainingProgress.At(loop.Step, steps, terms.AsSpan(4 * s, 4), elapsed);
                histories[s].Add(report);
                if (report.IsFinite) progress?.Report(new SettingProgress(s, report));
                else diverged[s] = TrainingDivergedException.At(report, Snapshot(s, loop.LastGood, wasCancelled: false));
            }
            return diverged.Any(d => d is null);
        }
    }
}
