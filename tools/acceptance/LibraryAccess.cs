using ActScale.Evaluation;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Acceptance;

/// <summary>
/// Every use of ActScale's trainer, intervention and objective API by the acceptance test, kept in this one file so an
/// API change is adapted here alone.
/// </summary>
internal static class LibraryAccess
{
    private const int BatchSize = 64;

    /// <summary>Trains <paramref name="method"/> with ActScale's default options (as `#!actscale train --method` does) unless <paramref name="budget"/> overrides steps, learning rate or seed.</summary>
    public static InterventionRun Train(LanguageModel model, PreparedTask task, InterventionMethod method, SteeringBudget budget)
    {
        var options = new TrainingOptions { Method = method };
        options = options with { Steps = budget.Steps ?? options.Steps, LearningRate = budget.LearningRate ?? options.LearningRate, Seed = budget.Seed ?? options.Seed };
        return Trainer.Train(model, task, options, method.ToString());
    }

    /// <summary>Per-prompt logit difference, answerless KL and top token: clean when <paramref name="run"/> is null, else with the run at <paramref name="beta"/>.</summary>
    public static PromptMeasure[] Measure(LanguageModel model, PreparedSplit split, InterventionRun? run = null, double beta = 0)
    {
        using var intervention = run?.CreateIntervention(model.Device);
        var hooks = new HookSet();
        using var attached = intervention?.Attach(hooks, beta);
        return Evaluator.Measure(model, split, hooks, BatchSize).ToArray();
    }

    /// <summary>
    /// ∂(mean logit difference)/∂α of an ActivScalar intervention at α = 0 on the default sites, flattened: the direction in
    /// which the model's own answer moves when each site is scaled. Splits that share a mechanism give parallel vectors.
    /// Only the positions training scales count: the others' zeros would agree between any two splits.
    /// </summary>
    public static double[] MeanActivScalarGradient(LanguageModel model, PreparedSplit split, int promptLength)
    {
        int first = new TrainingOptions().FirstPosition;
        using var intervention = Intervention.Create(InterventionMethod.ActivScalar,
            new InterventionLayout(TrainingOptions.DefaultSiteKinds, model.Config.LayerCount, model.Config.Width, promptLength, FirstPosition: first), model.Device);
        var hooks = new HookSet();
        using var attached = intervention.Attach(hooks);
        SplitBatches.ForEach(model.Transformer, split, hooks, BatchSize,
            batch => (Losses.LogitDifference(batch.Logits, batch.Correct, batch.Wrong).sum() / split.Count).backward());
        using var gradient = intervention.Parameters.grad!.detach()[.., .., first..].cpu().to_type(ScalarType.Float64).flatten();
        return gradient.data<double>().ToArray();
    }
}
