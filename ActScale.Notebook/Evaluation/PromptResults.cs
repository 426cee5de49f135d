using ActScale.Model;
using ActScale.Objective;
using ActScale.Training;
using Deedle;

namespace ActScale.Evaluation;

/// <summary>
/// What a run does to one prompt (<see cref="Index"/> is its place in its split), at β = +1 ("Plus") and β = −1
/// ("Minus") beside the clean model: logit(correct) − logit(wrong), the answerless KL to the clean model, and the model's
/// top next token. <see cref="Template"/> is the generator's template (empty for hand-written prompts), so failures
/// can be grouped by it. Averaged over a split, the flags are exactly <see cref="MetricRow"/>'s shares: FlipsPlus and
/// FlipsMinus its FlipAccuracy at β = +1 and −1, BothBetaSuccess its BothBetaSuccess, AnswerOnTop* its Top1Guard.
/// </summary>
public sealed record PromptResult(string Split, int Index, string Prompt, string Correct, string Wrong, string Template,
    double CleanLogitDifference, double LogitDifferencePlus, double LogitDifferenceMinus, double KlPlus, double KlMinus,
    string TopTokenPlus, string TopTokenMinus, bool AnswerOnTopPlus, bool AnswerOnTopMinus)
{
    /// <summary>The clean model prefers the correct answer.</summary>
    public bool CleanPrefersCorrect => SteeringMetrics.PrefersIntended(CleanLogitDifference, 1);

    /// <summary>At β = +1 the prompt prefers the correct answer.</summary>
    public bool FlipsPlus => SteeringMetrics.PrefersIntended(LogitDifferencePlus, 1);

    /// <summary>At β = −1 the prompt prefers the wrong answer.</summary>
    public bool FlipsMinus => SteeringMetrics.PrefersIntended(LogitDifferenceMinus, -1);

    /// <summary>The prompt prefers correct at β = +1 and wrong at β = −1.</summary>
    public bool BothBetaSuccess => SteeringMetrics.SucceedsAtBothBetas(LogitDifferencePlus, LogitDifferenceMinus);

    /// <summary>
    /// The smaller of the two signed logit differences (LD at +1, −LD at −1): positive exactly when the prompt succeeds at
    /// both β, and the more negative, the further the run is from steering it either way.
    /// </summary>
    public double BothBetaMargin => Math.Min(LogitDifferencePlus, -LogitDifferenceMinus);
}

/// <summary>Per-prompt results of a run, so the prompts an intervention fails on can be read, not only counted.</summary>
public static class PromptResults
{
    private static readonly double[] Betas = [0, 1, -1];

    /// <summary>
    /// Measures <paramref name="run"/> on every prompt of <paramref name="splits"/> (every split when null, train first),
    /// through the same path as <see cref="Evaluator.Evaluate"/>. <paramref name="batchSize"/> defaults to the run's
    /// own, as the notebook's metrics use: another batch size may move a logit difference in its last float digit.
    /// </summary>
    public static IReadOnlyList<PromptResult> Measure(LanguageModel model, InterventionRun run, PreparedTask task,
        IReadOnlyList<string>? splits = null, int? batchSize = null)
    {
        var measured = Evaluator.MeasureSplits(model, run, task, splits ?? Evaluator.SplitOrder(task), Betas, batchSize ?? run.Options.BatchSize);
        return measured.SelectMany(m => Results(model, m)).ToList();
    }

    private static IEnumerable<PromptResult> Results(LanguageModel model, SplitMeasures measured)
    {
        var (clean, plus, minus) = (measured.ByBeta[0], measured.ByBeta[1], measured.ByBeta[-1]);
        for (int i = 0; i < measured.Split.Count; i++)
        {
            var example = measured.Split.Examples[i];
            yield return new PromptResult(measured.Split.Name, i, example.Prompt, example.Correct, example.Wrong, example.Template,
                clean[i].LogitDifference, plus[i].LogitDifference, minus[i].LogitDifference, plus[i].Kl, minus[i].Kl,
                model.Tokenizer.TokenText(plus[i].TopToken), model.Tokenizer.TokenText(minus[i].TopToken), plus[i].AnswerOnTop, minus[i].AnswerOnTop);
        }
    }

    /// <summary>The results ordered by <see cref="PromptResult.BothBetaMargin"/>, smallest first: every failure before every success.</summary>
    public static IReadOnlyList<PromptResult> WorstFirst(IEnumerable<PromptResult> results) =>
        results.OrderBy(r => r.BothBetaMargin).ThenBy(r => r.Split, StringComparer.Ordinal).ThenBy(r => r.Index).ToList();

    /// <summary>Results as a Deedle frame (one column per <see cref="PromptResult"/> property).</summary>
    public static Frame<int, string> ToFrame(IEnumerable<PromptResult> results) => Frame.FromRecords(results);
}
