using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;

namespace ActScale.Results;

/// <summary>One setting of a trade-off sweep on one split: effectiveness (both-β success) against ‖θ‖₁ and KL.</summary>
internal sealed record SweepPoint(string Task, string Parameter, double Value, string Split, double CleanAccuracy, double BothBetaSuccess,
    double L1, double Kl, double Top1Guard);

/// <summary>ActivScalar's λ_M and λ_F sweeps (the other λ at its default) on the seed-0 prompts of a task: the paper's trade-off curves.</summary>
internal static class Sweeps
{
    public static IEnumerable<SweepPoint> Run(LanguageModel model, string task, ResultsOptions options, Action<string> log)
    {
        var selection = TaskSelector.Select(model, task, int.MaxValue, int.MaxValue, 0, options.Lists);
        var (prepared, _) = PreparedTask.PrepareFor(model, selection.Examples, InterventionMethod.ActivScalar);
        using (prepared)
        {
            var baseOptions = options.Training with { Method = InterventionMethod.ActivScalar };
            var points = new List<SweepPoint>();
            foreach (var (name, parameter, values) in new[] { ("λ_M", SweepParameter.LambdaM, options.LambdaM), ("λ_F", SweepParameter.LambdaF, options.LambdaF) })
            {
                var result = Sweep.Run(model, prepared, baseOptions, SweepGrid.Over(parameter, values), onSetting: new Progress(log));
                points.AddRange(result.Rows.Where(r => r.Beta != 0).GroupBy(r => (Value: r.Setting(parameter), r.Split)).Select(g => new SweepPoint(
                    task, name, g.Key.Value, g.Key.Split, g.First().CleanFlipAccuracy, g.First().BothBetaSuccess, g.First().L1, g.Average(r => r.Kl),
                    g.Min(r => r.Top1Guard))));
            }
            return points;
        }
    }

    private sealed class Progress(Action<string> log) : IProgress<string>
    {
        public void Report(string value) => log(value);
    }
}
