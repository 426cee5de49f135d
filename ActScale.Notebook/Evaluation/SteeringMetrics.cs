namespace ActScale.Evaluation;

/// <summary>
/// What one forward pass says about one prompt: logit(correct) − logit(wrong), the answerless KL to the clean model, and
/// the token ids of the model's top next token and of the two answers.
/// </summary>
public sealed record PromptMeasure(double LogitDifference, double Kl, int TopToken, int Correct, int Wrong)
{
    /// <summary>True when one of the two answers is the model's most likely next token.</summary>
    public bool AnswerOnTop => TopToken == Correct || TopToken == Wrong;
}

/// <summary>
/// The steering of one run on one split, beside the clean model: flip accuracy at β = +1 and β = −1 with the clean
/// accuracy they must be read against, both-β success, mean KL and the top-1 guard at each β.
/// </summary>
public sealed record SteeringSummary(int Prompts, double CleanAccuracy, double FlipAccuracyPlus, double FlipAccuracyMinus,
    double BothBetaSuccess, double KlPlus, double KlMinus, double Top1GuardPlus, double Top1GuardMinus)
{
    /// <summary>The larger of the two mean KLs: a faithfulness bound must hold at both strengths.</summary>
    public double WorstKl => Math.Max(KlPlus, KlMinus);

    /// <summary>The smaller of the two top-1 guards.</summary>
    public double WorstTop1Guard => Math.Min(Top1GuardPlus, Top1GuardMinus);
}

/// <summary>
/// Steering metrics as pure functions over per-prompt measurements, so that none of them can credit an intervention
/// that does nothing: a null intervention has both-β success 0, and flip accuracy is always reported next to the clean
/// model's accuracy (for a null intervention flip accuracy at +1 and −1 sum to 1, so their mean is 0.5 whatever the model).
/// </summary>
public static class SteeringMetrics
{
    /// <summary>Whether one prompt prefers the intended answer at β: correct for β ≥ 0, wrong for β &lt; 0 (a tie is a failure).</summary>
    public static bool PrefersIntended(double logitDifference, double beta) => (beta < 0 ? -logitDifference : logitDifference) > 0;

    /// <summary>Whether one prompt prefers the correct answer at β = +1 AND the wrong one at β = −1.</summary>
    public static bool SucceedsAtBothBetas(double plus, double minus) => PrefersIntended(plus, 1) && PrefersIntended(minus, -1);

    /// <summary>Share of prompts that prefer the intended answer (<see cref="PrefersIntended"/>).</summary>
    public static double FlipAccuracy(IReadOnlyList<double> logitDifferences, double beta) =>
        Share(logitDifferences.Count, i => PrefersIntended(logitDifferences[i], beta));

    /// <summary>
    /// Share of prompts that prefer the correct answer at β = +1 AND the wrong one at β = −1 (the arrays are aligned by
    /// prompt). It is 0 for an intervention that does nothing, unlike the mean of the two flip accuracies.
    /// </summary>
    public static double BothBetaSuccess(IReadOnlyList<double> plus, IReadOnlyList<double> minus)
    {
        RequireAligned(plus.Count, minus.Count);
        return Share(plus.Count, i => SucceedsAtBothBetas(plus[i], minus[i]));
    }

    /// <summary>Share of prompts where one of the two answers is the model's top token: low values mean the intervention
    /// won its logit difference by pushing both answers below some third token.</summary>
    public static double Top1Guard(IReadOnlyList<PromptMeasure> measures) => Share(measures.Count, i => measures[i].AnswerOnTop);

    /// <summary>Share of prompts whose top token is the correct answer (e.g. fact recall).</summary>
    public static double TopIsCorrect(IReadOnlyList<PromptMeasure> measures) => Share(measures.Count, i => measures[i].TopToken == measures[i].Correct);

    /// <summary>Summarises a run's measurements at β = +1 and β = −1 beside the clean model's, all aligned by prompt.</summary>
    public static SteeringSummary Summarise(IReadOnlyList<PromptMeasure> clean, IReadOnlyList<PromptMeasure> plus, IReadOnlyList<PromptMeasure> minus)
    {
        RequireAligned(clean.Count, plus.Count);
        RequireAligned(clean.Count, minus.Count);
        var cleanLd = clean.Select(m => m.LogitDifference).ToArray();
        var plusLd = plus.Select(m => m.LogitDifference).ToArray();
        var minusLd = minus.Select(m => m.LogitDifference).ToArray();
        return new SteeringSummary(clean.Count, FlipAccuracy(cleanLd, 1), FlipAccuracy(plusLd, 1), FlipAccuracy(minusLd, -1),
            BothBetaSuccess(plusLd, minusLd), Mean(plus.Select(m => m.Kl)), Mean(minus.Select(m => m.Kl)), Top1Guard(plus), Top1Guard(minus));
    }

    /// <summary>Pearson correlation of two equally long vectors (e.g. mean gradients on two splits); 0 when either is constant.</summary>
    public static double Correlation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        RequireAligned(a.Count, b.Count);
        if (a.Count == 0) throw new ArgumentException("Correlation needs at least one value.");
        double meanA = a.Average(), meanB = b.Average();
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Count; i++)
        {
            double x = a[i] - meanA, y = b[i] - meanB;
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        return aa == 0 || bb == 0 ? 0 : ab / Math.Sqrt(aa * bb);
    }

    private static double Mean(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? double.NaN : list.Average();
    }

    private static double Share(int count, Func<int, bool> holds)
    {
        if (count == 0) return double.NaN;
        int hits = 0;
        for (int i = 0; i < count; i++)
            if (holds(i)) hits++;
        return hits / (double)count;
    }

    private static void RequireAligned(int first, int second)
    {
        if (first != second)
            throw new ArgumentException($"The per-prompt arrays must be aligned (one entry per prompt) but have {first} and {second} entries.");
    }
}
