using ActScale.Model;

namespace ActScale.Tasks;

/// <summary>The prompts a notebook's <c>data</c> chose: the sample, where it came from, and what was dropped on the way.</summary>
public sealed record TaskSelection(IReadOnlyList<PromptExample> Examples, string Source, string? Note)
{
    public IReadOnlyList<PromptExample> Train => Examples.Where(e => e.Split == PromptExample.Train).ToArray();
    public IReadOnlyList<PromptExample> Test => Examples.Where(e => e.Split == PromptExample.Test).ToArray();
}

/// <summary>
/// Builds a task from a built-in generator (CCC, IOI) or a JSONL file and samples train and test prompts from it,
/// so a C# program gets exactly what the notebook's <c>data</c> magic gets.
/// </summary>
public static class TaskSelector
{
    /// <summary>
    /// The built-in generators, by the name <c>data --task</c> takes. ABBA and BABA are two token layouts (the indirect object
    /// sits at another position), so a positional method sees one of them: "ioi" keeps the commoner layout (ABBA, as
    /// generated first), "ioi-abba" and "ioi-baba" name the order.
    /// </summary>
    public static readonly string[] BuiltIn = ["ccc", "ioi", "ioi-abba", "ioi-baba"];

    /// <summary>
    /// <paramref name="task"/> is one of <see cref="BuiltIn"/> or a .jsonl path. Generated tasks keep one prompt length, so every method
    /// compares on the same prompts; <paramref name="seed"/> offsets the generator's own seed and draws the sample.
    /// </summary>
    public static TaskSelection Select(LanguageModel model, string task, int trainCount, int testCount, int seed, string listsFolder)
    {
        var (all, source, note) = Build(model.Tokenizer, task, seed, listsFolder);
        var random = new Random(seed);
        PromptExample[] Take(string split, int n) => all.Where(e => e.Split == split).OrderBy(_ => random.Next()).Take(n).ToArray();
        var train = Take(PromptExample.Train, trainCount);
        var test = Take(PromptExample.Test, testCount);
        if (train.Length == 0)
            throw new TaskDataException($"{source} has no prompts with split \"train\"; a task file needs train prompts (and test prompts for held-out metrics).");
        var examples = train.Concat(test).ToArray();
        // Validated now (single-token answers, context) so mistakes show when the data is chosen, not at train time.
        TaskValidator.Validate(examples, model.Tokenizer, model.Config.ContextLength, samePromptLength: false);
        return new TaskSelection(examples, source, note);
    }

    private static (IReadOnlyList<PromptExample> All, string Source, string? Note) Build(TextTokenizer tokenizer, string task, int seed, string lists)
    {
        var builtIn = Array.Find(BuiltIn, name => name.Equals(task, StringComparison.OrdinalIgnoreCase));
        if (builtIn is null)
        {
            if (!File.Exists(task))
                throw new FileNotFoundException($"The task must be {string.Join(", ", BuiltIn)} or the path of a .jsonl file; '{task}' is neither (no such file in {Environment.CurrentDirectory}).", task);
            return (TaskFile.Read(task), Path.GetFileName(task), null);
        }
        bool ccc = builtIn == "ccc";
        var order = builtIn.StartsWith("ioi-", StringComparison.Ordinal) ? builtIn["ioi-".Length..].ToUpperInvariant() : null;
        var templates = TemplateSet.ReadOrBuiltIn(Path.Combine(lists, "templates.json"));
        // The seed offsets each generator's own default, so seed 0 gives the generator's documented prompts.
        var cccDefaults = new CccOptions();
        var ioiDefaults = new IoiOptions();
        var generated = ccc
            ? TaskGenerators.Ccc(WordLists.ReadCountries(Path.Combine(lists, "countries.tsv")), templates, cccDefaults with { Seed = cccDefaults.Seed + seed }, tokenizer)
            : TaskGenerators.Ioi(WordLists.ReadNames(Path.Combine(lists, "names.txt")), templates, ioiDefaults with { Seed = ioiDefaults.Seed + seed }, tokenizer);
        if (order is not null) generated = generated.Where(e => TaskGenerators.IoiOrderOf(e) == order).ToArray();
        var (kept, dropped) = TaskValidator.KeepOneLayout(generated, tokenizer);
        return (kept, builtIn.ToUpperInvariant() + " (generated)", dropped);
    }
}
