using ActScale.Hooks;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Runtime;
using ActScale.Tasks;
using ActScale.Training;
using Deedle;
using static TorchSharp.torch;

namespace ActScale.Evaluation;

/// <summary>
/// Evaluation settings [ours]: β values to evaluate (default +1 and −1; add 0 for the clean model), the threshold
/// above which a site's magnitude counts as non-trivial (default 0.1, in the units of
/// <see cref="InterventionRun.Magnitudes"/>: |α|, ‖v‖₂, or the probe's ‖w‖₂ / |b|), and the forward batch size.
/// </summary>
public sealed record EvaluationOptions(double[]? Betas = null, double NonTrivialThreshold = 0.1, int BatchSize = 32)
{
    public IReadOnlyList<double> BetaValues => Betas is { Length: > 0 } b ? b : [1.0, -1.0];
}

/// <summary>
/// Metrics of one run on one split at one β. FlipAccuracy: share of prompts whose preferred answer is the intended one
/// (correct for β ≥ 0, wrong for β &lt; 0). MeanLogitDifference: mean of logit(correct) − logit(wrong) after the
/// intervention; MeanSignedLogitDifference: the same times sign(β) (positive = intended direction);
/// CleanMeanLogitDifference: the clean model's. Kl: mean KL(p_clean ‖ p_intervened) on non-answer tokens. L1: summed
/// ‖θ‖₁. NonTrivialSites: see <see cref="InterventionRun.NonTrivialSites"/>.
/// </summary>
public sealed record MetricRow(string Run, string Method, string Split, double Beta, int Prompts, double FlipAccuracy,
    double MeanLogitDifference, double MeanSignedLogitDifference, double CleanMeanLogitDifference, double Kl, double L1,
    long ParameterCount, int NonTrivialSites, double TrainingSeconds);

/// <summary>Evaluates trained runs on every split of a prepared task.</summary>
public static class Evaluator
{
    public static IReadOnlyList<MetricRow> Evaluate(LanguageModel model, InterventionRun run, PreparedTask task, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        run.EnsureTrainedOn(model);
        var checkedOptions = options;
        return DeviceMemory.Translate(() => EvaluateSplits(model, run, task, checkedOptions), "Evaluation", model.Device.ToString(), options.BatchSize);
    }

    private static IReadOnlyList<MetricRow> EvaluateSplits(LanguageModel model, InterventionRun run, PreparedTask task, EvaluationOptions options)
    {
        using var scope = NewDisposeScope();
        using var intervention = run.CreateIntervention(model.Device);
        double l1 = run.L1();
        int nonTrivial = run.NonTrivialSites(options.NonTrivialThreshold);
        var rows = new List<MetricRow>();
        var splitOrder = task.Splits.Keys.OrderBy(k => k == PromptExample.Train ? 0 : k == PromptExample.Test ? 1 : 2).ThenBy(k => k, StringComparer.Ordinal);
        foreach (var splitName in splitOrder)
        {
            var split = task.Splits[splitName];
            if (run.Method.IsPositional)
                PromptLayoutRule.Check(run.Method.Name, run.PromptLength, split.Tokens.Select(t => t.Length), $"split '{splitName}'");
            double cleanMean = Mean(split.CleanLogitDifference);
            foreach (var beta in options.BetaValues)
            {
                var hooks = new HookSet();
                float[] difference, kl;
                using (intervention.Attach(hooks, beta))
                    (difference, kl) = Measure(model, split, hooks, options.BatchSize);
                double sign = beta < 0 ? -1 : 1;
                rows.Add(new MetricRow(run.Name, run.Method.ToString(), splitName, beta, split.Count,
                    difference.Count(d => sign * d > 0) / (double)split.Count, difference.Average(), difference.Average(d => sign * d),
                    cleanMean, kl.Average(), l1, run.ParameterCount, nonTrivial, run.TrainingTime.TotalSeconds));
            }
        }
        return rows;
    }

    /// <summary>Per-prompt logit difference and answerless KL with the hooks as they are.</summary>
    internal static (float[] Difference, float[] Kl) Measure(LanguageModel model, PreparedSplit split, HookSet hooks, int batchSize)
    {
        var differences = new List<float>();
        var kls = new List<float>();
        using var _ = no_grad();
        for (int start = 0; start < split.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, split.Count - start);
            using var scope = NewDisposeScope();
            var c = split.Correct.narrow(0, start, n);
            var w = split.Wrong.narrow(0, start, n);
            var logits = LastToken.Logits(model.Transformer, split.Ids.narrow(0, start, n), split.LastIndex.narrow(0, start, n), hooks);
            var both = stack([Losses.LogitDifference(logits, c, w), Losses.FaithfulnessPerPrompt(split.CleanLogProbs(start, n), logits, c, w)]);
            var values = both.cpu().data<float>().ToArray();
            differences.AddRange(values.Take(n));
            kls.AddRange(values.Skip(n));
        }
        return (differences.ToArray(), kls.ToArray());
    }

    private static double Mean(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.mean().cpu().item<float>();
    }

    /// <summary>Rows as a Deedle frame (one column per <see cref="MetricRow"/> property).</summary>
    public static Frame<int, string> ToFrame(IEnumerable<MetricRow> rows) => Frame.FromRecords(rows);

    /// <summary>Evaluates and returns the frame directly.</summary>
    public static Frame<int, string> EvaluateFrame(LanguageModel model, InterventionRun run, PreparedTask task, EvaluationOptions? options = null) =>
        ToFrame(Evaluate(model, run, task, options));
}
