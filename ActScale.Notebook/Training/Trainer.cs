using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Runtime;
using ActScale.Tasks;
using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>Training stopped because the loss became NaN or infinite; <see cref="LastGoodRun"/> holds the last finite parameters.</summary>
public sealed class TrainingDivergedException(string message, InterventionRun lastGoodRun) : Exception(message)
{
    public InterventionRun LastGoodRun { get; } = lastGoodRun;

    /// <summary>The divergence a non-finite <paramref name="report"/> shows, with the last finite parameters.</summary>
    internal static TrainingDivergedException At(TrainingProgress report, InterventionRun lastGoodRun) => new(
        // The terms were measured in float32: printed as such, not with the digits their widening to double invents.
        $"Training diverged by step {report.Step}: loss {(float)report.Loss} (effectiveness {(float)report.Effectiveness}, " +
        $"faithfulness {(float)report.Faithfulness}, ℓ1 {(float)report.L1}). " +
        "The exception's LastGoodRun holds the last parameters with a finite loss. Try a smaller LearningRate.", lastGoodRun);
}

/// <summary>
/// Trains one intervention on a prepared task with the model frozen. Each step runs its minibatch at β = +1 and β = −1
/// in a single forward/backward pass, with no host synchronisation except the progress report every
/// <see cref="TrainingOptions.ReportEvery"/> steps. Cancellation returns the run with the best parameters seen
/// (lowest minibatch loss) marked cancelled; otherwise the run holds the final parameters.
/// </summary>
public static class Trainer
{
    private static readonly HashSet<TransformerModel> Busy = new(ReferenceEqualityComparer.Instance);

    /// <summary>Validates and prepares <paramref name="examples"/> (keeping them as given), then trains.</summary>
    public static InterventionRun Train(LanguageModel model, IReadOnlyList<PromptExample> examples, TrainingOptions? options = null,
        string? name = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new TrainingOptions();
        using var task = PreparedTask.Prepare(model, examples, options.Method.IsPositional, options.Method.Name);
        return Train(model, task, options, name, progress, cancellation);
    }

    public static InterventionRun Train(LanguageModel model, PreparedTask task, TrainingOptions? options = null, string? name = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new TrainingOptions();
        options.Check();
        CheckTask(model, task, options);
        using (Reserve(model))
            return DeviceMemory.Translate(() => Run(model, task, options, name ?? $"{options.Method}", progress, cancellation),
                "Training", model.Device.ToString(), Math.Min(options.BatchSize, task.Train.Count));
    }

    /// <summary>Throws unless <paramref name="task"/> was prepared for <paramref name="model"/>, fits the method's length rule and has positions from the first intervened one on.</summary>
    internal static void CheckTask(LanguageModel model, PreparedTask task, TrainingOptions options)
    {
        if (task.ModelIdentity != model.Identity)
            throw new ArgumentException($"The task was prepared for model '{task.ModelIdentity}' but training uses '{model.Identity}'. Prepare it again for this model.");
        var lengths = task.Splits.Values.SelectMany(s => s.Tokens).Select(t => t.Length).ToArray();
        if (options.Method.IsPositional)
            PromptLayoutRule.Check(options.Method.Name, null, lengths, "the task");
        options.CheckFirstPosition(lengths);
    }

    /// <summary>Marks <paramref name="model"/> as training until the result is disposed; refuses a second training on it meanwhile.</summary>
    internal static IDisposable Reserve(LanguageModel model)
    {
        lock (Busy)
        {
            if (!Busy.Add(model.Transformer))
                throw new InvalidOperationException($"A training is already running on model '{model.Name}'. Wait for it to finish or cancel it before starting another.");
        }
        return new Release(model.Transformer);
    }

    private sealed class Release(TransformerModel transformer) : IDisposable
    {
        public void Dispose()
        {
            lock (Busy) Busy.Remove(transformer);
        }
    }

    private static InterventionRun Run(LanguageModel model, PreparedTask task, TrainingOptions options, string name,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        using var runScope = NewDisposeScope();
        var device = model.Device;
        var train = task.Train;
        manual_seed(options.Seed);
        int batch = Math.Min(options.BatchSize, train.Count);
        using var schedule = new MinibatchSchedule(train.Count, batch, options.Steps, options.Seed, device);

        var layout = InterventionLayout.For(options.SiteKinds, model.Config, task.PromptLength, options.FirstPosition);
        using var intervention = Intervention.Create(options.Method, layout, device);
        using var loop = new TrainingLoop(intervention.Parameters, settingShape: [], options.LearningRate);
        var history = new List<TrainingProgress>();
        // The clean model's side of the faithfulness term, once for the split (counted in the training time) unless too large.
        using var reference = new SplitReference(model.Transformer, train, batch);

        InterventionRun Snapshot(Tensor values, bool wasCancelled) => new(name, options, model.Identity, layout.LayerCount,
            layout.Width, task.PromptLength, task.TokenLabels, values.detach().clone().DetachFromDisposeScope(), wasCancelled, loop.Step,
            loop.Elapsed, history.ToArray(), layout.HeadCount);

        StepLoss Objective(int step)
        {
            var single = schedule.Rows(step);
            using var clean = reference.Rows(single);
            var (loss, effectiveness, faithfulness, l1) = ObjectiveFunction.Compute(model.Transformer, intervention, train, single, clean, options.Loss);
            return new StepLoss(loss, loss, effectiveness, faithfulness, l1);
        }

        bool Report(float[] terms)
        {
            var report = TrainingProgress.At(loop.Step, options.Steps, terms, loop.Elapsed);
            history.Add(report);
            if (!report.IsFinite) throw TrainingDivergedException.At(report, Snapshot(loop.LastGood, wasCancelled: false));
            progress?.Report(report);
            return true; // a single run trains on: its divergence has thrown
        }

        loop.Run(options.Steps, options.ReportEvery, Objective, Report, cancellation);
        return Snapshot(loop.Result, loop.Cancelled);
    }
}
