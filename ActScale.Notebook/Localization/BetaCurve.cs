using ActScale.Hooks;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;

namespace ActScale.Localization;

/// <summary>
/// One point of a β curve on one split: means over its prompts of the logit difference, p(correct), p(wrong) and the
/// answerless KL to the clean model, and the both-β success at |β|: the share of prompts that prefer the correct
/// answer at +|β| and the wrong one at −|β| (0 at β = 0, the clean model).
/// </summary>
public sealed record BetaPoint(string Split, double Beta, double MeanLogitDifference, double PCorrect, double PWrong, double Kl, double BothBetaSuccess)
{
    public bool IsClean => Beta == 0;
}

/// <summary>
/// A run's behaviour as the strength β varies continuously (the paper trains and reads it at ±1 only). Every β is
/// measured with its negative too, for the both-β success, and β = 0 is always included as the clean reference.
/// </summary>
public static class BetaCurve
{
    public static IReadOnlyList<BetaPoint> Measure(LanguageModel model, InterventionRun run, PreparedTask task, IReadOnlyList<double> betas,
        IReadOnlyList<string> splits, int batchSize = 32)
    {
        run.EnsureTrainedOn(model);
        if (betas.Count == 0) throw new ArgumentException("Give at least one β.");
        var strengths = betas.Concat(betas.Select(b => -b)).Append(0.0).Distinct().Order().ToArray();
        var points = new List<BetaPoint>();
        using var intervention = run.CreateIntervention(model.Device);
        foreach (var name in splits)
        {
            var split = task.Split(name);
            if (run.Method.IsPositional) PromptLayoutRule.Check(run.Method.Name, run.PromptLength, split.Tokens.Select(t => t.Length), $"split '{name}'");
            var measured = strengths.ToDictionary(b => b, b =>
            {
                var hooks = new HookSet();
                using (intervention.Attach(hooks, b)) return PromptMeasures.Of(model, split, hooks, batchSize);
            });
            foreach (var beta in strengths.Where(b => betas.Contains(b) || b == 0))
            {
                var m = measured[beta];
                var (up, down) = (measured[Math.Abs(beta)].LogitDifference, measured[-Math.Abs(beta)].LogitDifference);
                double both = beta == 0 ? 0 : up.Zip(down).Count(p => p.First > 0 && p.Second < 0) / (double)split.Count;
                points.Add(new BetaPoint(name, beta, m.LogitDifference.Average(), m.PCorrect.Average(), m.PWrong.Average(), m.Kl.Average(), both));
            }
        }
        return points;
    }

    /// <summary>
    /// Parses "a:b:step" (a to b inclusive, in steps) or a comma-separated list, as typed after --values;
    /// refuses a zero or backwards step and more than 1000 values.
    /// </summary>
    public static IReadOnlyList<double> ParseValues(string text)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        double Number(string s) => double.TryParse(s.Trim(), System.Globalization.NumberStyles.Float, inv, out var v) && double.IsFinite(v) ? v
            : throw new ArgumentException($"'{s.Trim()}' is not a number; write β values as from:to:step (e.g. -3:3:0.25) or a list (e.g. -1,0,1).");
        var parts = text.Split(':');
        if (parts.Length == 1) return text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Number).ToArray();
        if (parts.Length != 3) throw new ArgumentException($"'{text}' is not a range; write from:to:step, e.g. -3:3:0.25.");
        double from = Number(parts[0]), to = Number(parts[1]), step = Number(parts[2]);
        if (step <= 0 || from > to) throw new ArgumentException($"The range '{text}' needs from ≤ to and a positive step, e.g. -3:3:0.25.");
        long count = (long)Math.Floor((to - from) / step + 1e-9) + 1;
        if (count > 1000) throw new ArgumentException($"The range '{text}' has {count} values; use at most 1000 (a larger step).");
        return Enumerable.Range(0, (int)count).Select(i => Math.Round(from + i * step, 10)).ToArray();
    }
}
