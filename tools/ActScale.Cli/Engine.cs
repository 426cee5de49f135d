using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Notebook;
using ActScale.Persistence;
using ActScale.Tasks;
using ActScale.Training;

namespace ActScale.Cli;

/// <summary>A trained (or interrupted) run with its metrics, as the tool writes it.</summary>
internal sealed record TrainedRun(InterventionRun Run, IReadOnlyList<MetricRow> Metrics)
{
    public SettingResult Result => new(!Run.Cancelled, Run.StepsCompleted, Run.TrainingTime.TotalSeconds, Metrics);
}

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

    /// <summary>The prompts the magic <c>data</c> would choose for the same options (one prompt length for generated tasks).</summary>
    public IReadOnlyList<PromptExample> Prompts(DataSettings data)
    {
        IReadOnlyList<PromptExample> all;
        var kind = data.Task.ToLowerInvariant();
        if (kind is "ccc" or "ioi")
        {
            var lists = DataLocator.ListsFolder();
            var templates = TemplateSet.ReadOrBuiltIn(Path.Combine(lists, "templates.json"));
            all = kind == "ccc"
                ? TaskGenerators.Ccc(WordLists.ReadCountries(Path.Combine(lists, "countries.tsv")), templates, new CccOptions(Seed: 17 + data.Seed), Model.Tokenizer)
                : TaskGenerators.Ioi(WordLists.ReadNames(Path.Combine(lists, "names.txt")), templates, new IoiOptions(Seed: 23 + data.Seed), Model.Tokenizer);
            all = TaskValidator.KeepOneLength(all, Model.Tokenizer).Kept;
        }
        else if (File.Exists(data.Task)) all = TaskFile.Read(data.Task);
        else throw new UsageException($"--task must be ccc, ioi or the path of a .jsonl file; '{data.Task}' is neither (no such file in {Environment.CurrentDirectory}).");

        var random = new Random(data.Seed);
        PromptExample[] Take(string split, int n) => all.Where(e => e.Split == split).OrderBy(_ => random.Next()).Take(n).ToArray();
        var train = Take(PromptExample.Train, data.Train);
        if (train.Length == 0) throw new UsageException($"{data.Task} has no prompts with split \"train\"; a task file needs train prompts (and test prompts for held-out metrics).");
        var examples = train.Concat(Take(PromptExample.Test, data.Test)).ToArray();
        TaskValidator.Validate(examples, Model.Tokenizer, Model.Config.ContextLength, samePromptLength: false);
        return examples;
    }

    /// <summary>The prompts tokenized for a method; ActivScalar and SteerVec keep the most common prompt length.</summary>
    public PreparedTask Prepare(IReadOnlyList<PromptExample> examples, InterventionMethod method)
    {
        bool positional = Intervention.IsPositional(method);
        if (positional) examples = TaskValidator.KeepOneLength(examples, Model.Tokenizer).Kept;
        return PreparedTask.Prepare(Model, examples, positional, method.ToString());
    }

    /// <summary>Trains and evaluates; on cancellation the run holds the best parameters seen and is marked so.</summary>
    public TrainedRun Train(PreparedTask task, TrainingOptions options, string name, IProgress<TrainingProgress> progress, CancellationToken cancellation)
    {
        InterventionRun run;
        try
        {
            run = Trainer.Train(Model, task, options, name, progress, cancellation);
        }
        catch (TrainingDivergedException diverged)
        {
            diverged.LastGoodRun.Dispose();
            throw new UsageException($"{diverged.Message} Try a smaller --lr.");
        }
        return new TrainedRun(run, Evaluate(run, task, options.BatchSize));
    }

    public IReadOnlyList<MetricRow> Evaluate(InterventionRun run, PreparedTask task, int batch) =>
        Evaluator.Evaluate(Model, run, task, new EvaluationOptions(BatchSize: batch));

    public InterventionRun LoadRun(string path) => RunStore.Load(path, Model);

    public void Dispose() => Model.Dispose();
}
