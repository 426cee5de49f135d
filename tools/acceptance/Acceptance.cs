using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;

namespace ActScale.Acceptance;

/// <summary>The checks of issue 13 on one task split: the clean behaviour, a shared lever, and default steering that generalises.</summary>
internal static class Acceptance
{
    private static readonly InterventionMethod[] Methods = [InterventionMethod.ActivScalar, InterventionMethod.SteerVec];

    public static IEnumerable<Check> Ccc(LanguageModel model, IReadOnlyList<PromptExample> examples, string label, SteeringBudget budget)
    {
        using var task = PreparedTask.Prepare(model, examples, samePromptLength: true, "ActivScalar");
        var (heldOut, clean) = CleanHeldOut(model, task, "test-countries", $"{label}: CCC");
        var checks = new List<Check>
        {
            Check.Between($"{label}: CCC conflicts, clean accuracy (memory wins), held-out countries", SteeringMetrics.FlipAccuracy(clean, 1), 0.3, 0.7),
            LeverCheck(model, task, heldOut, $"{label}: CCC"),
        };
        checks.AddRange(Steering(model, task, budget, ["test-countries"], ["test-wording"], 0.8, 0.3, $"{label}: CCC"));
        return checks;
    }

    public static IEnumerable<Check> Ioi(LanguageModel model, IReadOnlyList<PromptExample> examples, string label, SteeringBudget budget)
    {
        using var task = PreparedTask.Prepare(model, examples, samePromptLength: true, "ActivScalar");
        var (heldOut, clean) = CleanHeldOut(model, task, "test-names+templates", $"{label}: IOI");
        var checks = new List<Check>
        {
            Check.AtLeast($"{label}: IOI clean accuracy, held-out names and templates", SteeringMetrics.FlipAccuracy(clean, 1), 0.95),
            Check.Between($"{label}: IOI clean mean logit difference, held-out names and templates", clean.Average(), 2, 4),
            LeverCheck(model, task, heldOut, $"{label}: IOI"),
        };
        checks.AddRange(Steering(model, task, budget, ["test-names", "test-names+templates"], [], 0.7, 1.0, $"{label}: IOI"));
        return checks;
    }

    /// <summary>
    /// The held-out split and its clean logit differences, whose spread is printed: a shared shift can flip every prompt
    /// only when they lie close together.
    /// </summary>
    private static (PreparedSplit Split, double[] LogitDifferences) CleanHeldOut(LanguageModel model, PreparedTask task, string splitName, string label)
    {
        var split = task.Split(splitName);
        var ld = LibraryAccess.Measure(model, split).Select(m => m.LogitDifference).ToArray();
        double mean = ld.Average();
        double sd = Math.Sqrt(ld.Average(d => (d - mean) * (d - mean)));
        Console.WriteLine($"{label} {splitName}: clean logit difference mean {mean:0.00}, sd {sd:0.00}, range {ld.Min():0.00} .. {ld.Max():0.00}");
        return (split, ld);
    }

    /// <summary>A shared lever: scaling the same sites moves the answer the same way on training and held-out prompts.</summary>
    private static Check LeverCheck(LanguageModel model, PreparedTask task, PreparedSplit heldOut, string label)
    {
        int length = task.PromptLength!.Value;
        var train = LibraryAccess.MeanActivScalarGradient(model, task.Train, length);
        var test = LibraryAccess.MeanActivScalarGradient(model, heldOut, length);
        return Check.AtLeast($"{label} train/held-out correlation of mean dLD/dalpha", SteeringMetrics.Correlation(train, test), 0.8);
    }

    /// <summary>
    /// Trains each method with default options and checks both-β success and KL on the gated splits (reporting the others),
    /// then the paper's comparison there: ActivScalar within 0.1 of SteerVec's both-β success with at least 50× fewer parameters.
    /// </summary>
    private static IEnumerable<Check> Steering(LanguageModel model, PreparedTask task, SteeringBudget budget, string[] gated, string[] reported, double minSuccess,
        double maxKl, string label)
    {
        Console.WriteLine("method | split | prompts | params | clean acc | flip +1 | flip -1 | both-beta | KL +1 | KL -1 | top-1 guard +1 | top-1 guard -1");
        var success = new Dictionary<(InterventionMethod, string), double>();
        var parameters = new Dictionary<InterventionMethod, long>();
        foreach (var method in Methods)
        {
            using var run = LibraryAccess.Train(model, task, method, budget);
            parameters[method] = run.ParameterCount;
            foreach (var name in new[] { PromptExample.Train }.Concat(gated).Concat(reported))
            {
                var split = task.Split(name);
                var s = SteeringMetrics.Summarise(LibraryAccess.Measure(model, split), LibraryAccess.Measure(model, split, run, 1),
                    LibraryAccess.Measure(model, split, run, -1));
                Console.WriteLine($"{label} {method} | {name} | {s.Prompts} | {run.ParameterCount} | {s.CleanAccuracy:0.00} | {s.FlipAccuracyPlus:0.00} | " +
                                  $"{s.FlipAccuracyMinus:0.00} | {s.BothBetaSuccess:0.00} | {s.KlPlus:0.000} | {s.KlMinus:0.000} | {s.Top1GuardPlus:0.00} | {s.Top1GuardMinus:0.00}");
                if (!gated.Contains(name)) continue;
                success[(method, name)] = s.BothBetaSuccess;
                yield return Check.AtLeast($"{label} {method} both-beta success, {name}", s.BothBetaSuccess, minSuccess);
                yield return Check.AtMost($"{label} {method} KL (worse of beta = +1, -1), {name}", s.WorstKl, maxKl);
            }
        }
        var scalar = InterventionMethod.ActivScalar;
        var vector = InterventionMethod.SteerVec;
        yield return Check.AtLeast($"{label} SteerVec / ActivScalar parameters", (double)parameters[vector] / parameters[scalar], 50);
        foreach (var name in gated)
            yield return Check.AtLeast($"{label} ActivScalar minus SteerVec both-beta success, {name}", success[(scalar, name)] - success[(vector, name)], -0.1);
    }
}
