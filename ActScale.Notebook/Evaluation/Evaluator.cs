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
/// Evaluation settings [ours]: β values to evaluate (default +1 and −1; the clean β = 0 row is always added), the threshold
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
/// ‖θ‖₁. NonTrivialSites: see <see cref="InterventionRun.NonTrivialSites"/>. So that no row can flatter, each also carries
/// the clean model's flip accuracy at the same β (CleanFlipAccuracy) and the change FlipAccuracy − CleanFlipAccuracy;
/// BothBetaSuccess, the share of prompts that prefer correct at β = +1 and wrong at β = −1 (0 on the clean β = 0 row and
/// for a null intervention; NaN when the run was not evaluated at both); and Top1Guard, the share of prompts whose top
/// token is one of the two answers (read beside Kl: a low guard means the logit difference was won by breaking the model).
/// </summary>
public sealed record MetricRow(string Run, string Method, string Split, double Beta, int Prompts, double FlipAccuracy,
    double MeanLogitDifference, double MeanSignedLogitDifference, double CleanMeanLogitDifference, double Kl, double L1,
    long ParameterCount, int NonTrivialSites, double TrainingSeconds, double CleanFlipAccuracy = double.NaN,
    double FlipAccuracyChange = double.NaN, double BothBetaSuccess = double.NaN, double Top1Guard = double.NaN);

/// <summary>Per-prompt measures of a run on one split, by β (the clean β = 0 included).</summary>
internal sealed record SplitMeasures(PreparedSplit Split, IReadOnlyDictionary<double, IReadOnlyList<PromptMeasure>> ByBeta);

/// <summary>Evaluates trained runs on every split of a prepared task.</summary>
public static class Evaluator
{
    public static IReadOnlyList<MetricRow> Evaluate(LanguageModel model, InterventionRun run, PreparedTask task, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        // The clean row comes first and always: every intervened number is read against it.
        var betas = options.BetaValues.Where(b => b != 0).Distinct().Prepend(0.0).ToArray();
        var measured = MeasureSplits(model, run, task, SplitOrder(task), betas, options.BatchSize);
        double l1 = run.L1();
        int nonTrivial = run.NonTrivialSites(options.NonTrivialThreshold);
        return measured.SelectMany(m => Rows(run, m, betas, l1, nonTrivial)).ToList();
    }

    /// <summary>The rows of one split, one per β, each read against the clean β = 0 measures.</summary>
    private static IEnumerable<MetricRow> Rows(InterventionRun run, SplitMeasures measured, double[] betas, double l1, int nonTrivial)
    {
        var split = measured.Split;
        double cleanMean = Mean(split.CleanLogitDifference);
        var cleanDifferences = Differences(measured.ByBeta[0]);
        double bothBeta = measured.ByBeta.TryGetValue(1, out var plus) && measured.ByBeta.TryGetValue(-1, out var minus)
            ? SteeringMetrics.BothBetaSuccess(Differences(plus), Differences(minus)) : double.NaN;
        foreach (var beta in betas)
        {
            var prompts = measured.ByBeta[beta];
            var differences = Differences(prompts);
            double sign = beta < 0 ? -1 : 1;
            double flip = SteeringMetrics.FlipAccuracy(differences, beta), cleanFlip = SteeringMetrics.FlipAccuracy(cleanDifferences, beta);
            yield return new MetricRow(run.Name, run.Method.ToString(), split.Name, beta, split.Count, flip, differences.Average(),
                differences.Average(d => sign * d), cleanMean, prompts.Average(p => p.Kl), l1, run.ParameterCount, nonTrivial,
                run.TrainingTime.TotalSeconds, cleanFlip, flip - cleanFlip, beta == 0 ? 0 : bothBeta, SteeringMetrics.Top1Guard(prompts));
        }
    }

    /// <summary>Train first, then test, then any other split by name: the order rows and per-prompt results are listed in.</summary>
    internal static IReadOnlyList<string> SplitOrder(PreparedTask task) =>
        task.Splits.Keys.OrderBy(k => k == PromptExample.Train ? 0 : k == PromptExample.Test ? 1 : 2).ThenBy(k => k, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// The one measuring path of every evaluation: each prompt of each named split measured with the run attached at
    /// each of <paramref name="betas"/>. <see cref="Evaluate"/> averages these measures and <see cref="PromptResults"/>
    /// lists them, so a per-prompt table always adds up to the metric rows.
    /// </summary>
    internal static IReadOnlyList<SplitMeasures> MeasureSplits(LanguageModel model, InterventionRun run, PreparedTask task,
        IReadOnlyList<string> splitNames, IReadOnlyList<double> betas, int batchSize)
    {
        run.EnsureTrainedOn(model);
        var splits = splitNames.Select(task.Split).ToArray();
        return DeviceMemory.Translate(() =>
        {
            using var scope = NewDisposeScope();
            using var intervention = run.CreateIntervention(model.Device);
            return splits.Select(split =>
            {
                if (run.Method.IsPositional)
                    PromptLayoutRule.Check(run.Method.Name, run.PromptLength, split.Tokens.Select(t => t.Length), $"split '{split.Name}'");
                var byBeta = betas.ToDictionary(beta => beta, beta =>
                {
                    var hooks = new HookSet();
                    using (intervention.Attach(hooks, beta))
                        return Measure(model, split, hooks, batchSize);
                });
                return new SplitMeasures(split, byBeta);
            }).ToList();
        }, "Evaluation", model.Device.ToString(), batchSize);
    }

    private static double[] Differences(IReadOnlyList<PromptMeasure> prompts) => prompts.Select(p => p.LogitDifference).ToArray();

    /// <summary>Per-prompt logit difference, answerless KL and top token with the hooks as they are.</summary>
    public static IReadOnlyList<PromptMeasure> Measure(LanguageModel model, PreparedSplit split, HookSet hooks, int batchSize)
    {
        var measures = new List<PromptMeasure>(split.Count);
        using var _ = no_grad();
        SplitBatches.ForEach(model.Transformer, split, hooks, batchSize, batch =>
        {
            var (logits, c, w) = (batch.Logits, batch.Correct, batch.Wrong);
            var both = stack([Losses.LogitDifference(logits, c, w), Losses.FaithfulnessPerPrompt(batch.CleanLogProbs(), logits, c, w)]);
            var values = both.cpu().data<float>().ToArray();
            var top = logits.argmax(-1).cpu().data<long>().ToArray();
            var correct = c.cpu().data<long>().ToArray();
            var wrong = w.cpu().data<long>().ToArray();
            for (int i = 0; i < batch.Count; i++)
                measures.Add(new PromptMeasure(values[i], values[batch.Count + i], (int)top[i], (int)correct[i], (int)wrong[i]));
        });
        return measures;
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
