using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using Deedle;

namespace ActScale.Evaluation;

/// <summary>Trained runs of several methods on one task and their metrics; disposing it frees the runs.</summary>
public sealed class ComparisonResult(IReadOnlyList<InterventionRun> runs, IReadOnlyList<MetricRow> rows, string filterNote) : IDisposable
{
    public IReadOnlyList<InterventionRun> Runs { get; } = runs;
    public IReadOnlyList<MetricRow> Rows { get; } = rows;
    /// <summary>What <see cref="TaskValidator.KeepOneLayout"/> kept and dropped.</summary>
    public string FilterNote { get; } = filterNote;
    public Frame<int, string> Frame => Evaluator.ToFrame(Rows);
    public void Dispose()
    {
        foreach (var run in Runs) run.Dispose();
    }
}

/// <summary>
/// The paper's comparison table: trains each method with the same options on the same prompts and evaluates on train and
/// test. The prompts are first reduced to one length (<see cref="TaskValidator.KeepOneLayout"/>) so the positional methods
/// apply; DynScalar uses the same prompts unless <paramref name="dynScalarOnAllLengths"/> is set. <paramref name="perMethod"/>
/// replaces the options for some methods (e.g. a smaller learning rate for DynScalar). DynScalar, which applies to any
/// prompt length, is also evaluated on the prompts of the other lengths (splits named "other-lengths train/test").
/// </summary>
public static class MethodComparison
{
    public static ComparisonResult Run(LanguageModel model, IReadOnlyList<PromptExample> examples, TrainingOptions? baseOptions = null,
        IReadOnlyList<InterventionMethod>? methods = null, EvaluationOptions? evaluation = null, bool dynScalarOnAllLengths = false,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, string namePrefix = "",
        IReadOnlyDictionary<InterventionMethod, TrainingOptions>? perMethod = null)
    {
        baseOptions ??= new TrainingOptions();
        methods ??= [InterventionMethod.ActivScalar, InterventionMethod.SteerVec, InterventionMethod.DynScalar];
        var (sameLength, note) = TaskValidator.KeepOneLayout(examples, model.Tokenizer);
        var runs = new List<InterventionRun>();
        var rows = new List<MetricRow>();
        try
        {
            using var positionalTask = PreparedTask.Prepare(model, sameLength, samePromptLength: true, InterventionMethod.ActivScalar.Name);
            using var allTask = dynScalarOnAllLengths ? PreparedTask.Prepare(model, examples, samePromptLength: false) : null;
            var otherLengths = examples.Except(sameLength).ToList();
            using var otherLengthTask = otherLengths.Count > 0 && !dynScalarOnAllLengths
                ? PreparedTask.Prepare(model, otherLengths, samePromptLength: false, requireTrain: false)
                : null;
            foreach (var method in methods)
            {
                var task = !method.IsPositional && allTask is not null ? allTask : positionalTask;
                var options = (perMethod is not null && perMethod.TryGetValue(method, out var own) ? own : baseOptions) with { Method = method };
                var evaluated = Experiment.TrainAndEvaluate(model, task, options, namePrefix + method, evaluation ?? new EvaluationOptions(), progress, cancellation);
                var run = evaluated.Run;
                runs.Add(run);
                rows.AddRange(evaluated.Metrics);
                if (!method.IsPositional && otherLengthTask is not null)
                    rows.AddRange(Evaluator.Evaluate(model, run, otherLengthTask, evaluation).Select(r => r with { Split = "other-lengths " + r.Split }));
            }
        }
        catch
        {
            foreach (var run in runs) run.Dispose();
            throw;
        }
        return new ComparisonResult(runs, rows, note);
    }
}
