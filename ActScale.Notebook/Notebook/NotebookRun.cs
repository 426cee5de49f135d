using ActScale.Evaluation;
using ActScale.Training;
using Deedle;

namespace ActScale.Notebook;

/// <summary>A trained run as the notebook keeps it: the run and its metrics on the train and test prompts.</summary>
public sealed class NotebookRun(InterventionRun run, IReadOnlyList<MetricRow> metrics)
{
    public string Name => Run.Name;
    public InterventionRun Run { get; } = run;
    public IReadOnlyList<MetricRow> Metrics { get; } = metrics;

    /// <summary>The metrics as a Deedle frame (one row per split × β).</summary>
    public Frame<int, string> Frame => Evaluator.ToFrame(Metrics);

    /// <summary>The run's parameters as a heatmap; a notebook cell that ends with it shows the plot.</summary>
    public HeatmapView Heatmap() => Run.Heatmap();

    public MetricRow? Metric(string split, double beta) => Metrics.FirstOrDefault(m => m.Split == split && m.Beta == beta);

    public override string ToString() => Run.ToString();
}

/// <summary>Finds the word lists the CCC and IOI generators draw from: in the package (content/lists) or a checkout (data/lists).</summary>
public static class DataLocator
{
    public static string ListsFolder()
    {
        foreach (var root in new[] { Path.GetDirectoryName(typeof(DataLocator).Assembly.Location)!, AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(root); dir is not null; dir = dir.Parent)
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "content", "lists"), Path.Combine(dir.FullName, "data", "lists") })
                    if (File.Exists(Path.Combine(candidate, "countries.tsv"))) return candidate;
        throw new DirectoryNotFoundException("The word lists (countries.tsv, names.txt) were not found next to ActScale; reinstall the package, or pass your own prompts with --task PATH.jsonl.");
    }
}
