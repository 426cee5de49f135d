using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Notebook;
using ActScale.Objective;
using ActScale.Persistence;
using ActScale.Tasks;
using ActScale.Training;

namespace ActScale.Cli;

/// <summary>
/// The tool's one use of the library's engine: load a model, choose prompts as the magic <c>data</c> does, train and
/// evaluate. Every call into the trainer and evaluator is here, so a change to their API touches this file only.
/// </summary>
internal sealed class Engine(LanguageModel model) : IDisposable
{
    public LanguageModel Model { get; } = model;

    public static Engine Load(LoadSettings settings, Action<string> notice, int threads)
    {
        // Torch's thread count changes the order of floating-point sums: one count for every run of a sweep keeps
        // runs bit-identical wherever they train (a Slurm task or a local loop).
        TorchSharp.torch.set_num_threads(threads);
        try
        {
            return new Engine(LanguageModel.Load(settings.Model, settings.Device, settings.Dtype, notice));
        }
        catch (DirectoryNotFoundException e) { throw new UsageException(e.Message); }
    }

    /// <summary>The prompts the magic <c>data</c> chooses for the same options.</summary>
    public IReadOnlyList<PromptExample> Prompts(DataSettings data)
    {
        try
        {
            return TaskSelector.Select(Model, data.Task, data.Train, data.Test, data.Seed, DataLocator.ListsFolder()).Examples;
        }
        catch (FileNotFoundException e) when (e.FileName == data.Task) { throw new UsageException("--task: " + e.Message); }
    }

    /// <summary>The prompts tokenized for a method, as the notebook prepares them; the note says what was dropped, if anything.</summary>
    public PreparedTask Prepare(IReadOnlyList<PromptExample> examples, InterventionMethod method)
    {
        var (task, note) = PreparedTask.PrepareFor(Model, examples, method);
        if (note is not null) Console.Error.WriteLine(note);
        return task;
    }

    /// <summary>Trains and evaluates; on cancellation the run holds the best parameters seen and is marked so.</summary>
    public EvaluatedRun Train(PreparedTask task, TrainingOptions options, string name, IProgress<TrainingProgress> progress, CancellationToken cancellation)
    {
        try
        {
            return Experiment.TrainAndEvaluate(Model, task, options, name, progress: progress, cancellation: cancellation);
        }
        catch (TrainingDivergedException diverged)
        {
            diverged.LastGoodRun.Dispose();
            throw new UsageException($"{diverged.Message} Try a smaller --lr.");
        }
    }

    /// <summary>Evaluates a loaded run; the result owns the run.</summary>
    public EvaluatedRun Evaluate(InterventionRun run, PreparedTask task) => Experiment.Evaluate(Model, run, task);

    public InterventionRun LoadRun(string path) => RunStore.Load(path, Model);

    /// <summary>What the tool writes beside a saved run: its metrics, and whether training ran to the end.</summary>
    public static SettingResult Result(EvaluatedRun evaluated) =>
        new(!evaluated.Run.Cancelled, evaluated.Run.StepsCompleted, evaluated.Run.TrainingTime.TotalSeconds, evaluated.Metrics);

    public void Dispose() => Model.Dispose();
}
