using System.Net;
using System.Text;
using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Training;

namespace ActScale.Notebook;

// Over 200 lines: it is the one declaration of every magic option (a table, not logic); splitting it would scatter the options the issue asked to keep together.

/// <summary>One <c>#!actscale</c> subcommand: what it does and its options; its usage line and help are made from them.</summary>
public sealed record SubcommandSpec(string Name, string Summary, IReadOnlyList<MagicOption> Options)
{
    public string Usage => string.Join(" ", Options.Select(o => o.Usage).Prepend(Name));

    public string HelpHtml()
    {
        var html = new StringBuilder();
        html.Append($"<div style=\"margin-bottom:8px\"><b><code>#!actscale {WebUtility.HtmlEncode(Usage)}</code></b><br/>{WebUtility.HtmlEncode(Summary)}");
        if (Options.Count > 0)
        {
            html.Append("<table style=\"margin-top:4px\"><tr><th style=\"text-align:left\">option</th><th style=\"text-align:left\">meaning</th><th style=\"text-align:left\">default</th></tr>");
            foreach (var o in Options)
                html.Append($"<tr><td><code>{WebUtility.HtmlEncode(o.Name)}</code>{(o.Positional ? " (name optional)" : "")}</td><td style=\"text-align:left\">{WebUtility.HtmlEncode(o.Help)}</td><td><code>{WebUtility.HtmlEncode(o.DefaultText)}</code></td></tr>");
            html.Append("</table>");
        }
        return html.Append("</div>").ToString();
    }
}

/// <summary>
/// Every subcommand of <c>#!actscale</c> and every option, each declared once below; defaults come from the library's
/// own options and methods from <see cref="InterventionRegistry"/>, so help never disagrees with what runs.
/// </summary>
public static class CommandCatalog
{
    private static readonly TrainingOptions Defaults = new();
    private static IEnumerable<string> RunNames(NotebookSession s) => s.RunNames;
    private static IEnumerable<string> MethodNames() => InterventionRegistry.All.Select(m => m.Name.ToLowerInvariant());
    private static string Num(double v) => v.ToString("G", System.Globalization.CultureInfo.InvariantCulture);

    public static class LoadArgs
    {
        public static readonly MagicOption<string?> Model = MagicOptions.Text("--model",
            "Checkpoint folder (config.json, model.safetensors, vocab.json, merges.txt) or cached Hugging Face name.", "the shipped actscale-capitals-ioi", "actscale-capitals-ioi") with { TypeHint = "file" };
        // Free words with completions: the library checks them (cuda:N takes any N).
        public static readonly MagicOption<string> Device = MagicOptions.Word("--device", "Where to compute.", "auto", "cpu") with
        { Completions = _ => ["auto", "cpu", "cuda", "cuda:0", "cuda:1"] };
        public static readonly MagicOption<string> Dtype = MagicOptions.Word("--dtype", "Number type of the weights; bfloat16/float16 only on CUDA.", "float32", "float32") with
        { Completions = _ => ["float32", "bfloat16", "float16"] };
    }

    public static class PredictArgs
    {
        public static readonly MagicOption<string?> Prompt = MagicOptions.Text("--prompt", "The prompt text, in quotes.", "", "\"The capital of France is\"") with { Positional = true };
        public static readonly MagicOption<int> Top = MagicOptions.Int("--top", "How many tokens to list.", 5, 1, 100);
    }

    public static class DataArgs
    {
        public static readonly MagicOption<string> Task = MagicOptions.Word("--task", "ccc, ioi (ABBA order), ioi-abba, ioi-baba or the path of a .jsonl file.", "ccc", "ioi") with
        { Completions = _ => ActScale.Tasks.TaskSelector.BuiltIn, Positional = true, TypeHint = "file" };
        public static readonly MagicOption<int> Train = MagicOptions.Int("--train", "Number of training prompts.", 32, 1, 100_000);
        public static readonly MagicOption<int> Test = MagicOptions.Int("--test", "Number of held-out test prompts.", 32, 0, 100_000);
        public static readonly MagicOption<int> Seed = MagicOptions.Int("--seed", "Random seed for generating and sampling the prompts.", 0, TrainingOptions.SeedRange);
    }

    /// <summary>The training options train and sweep share.</summary>
    public static class TrainingArgs
    {
        public static readonly MagicOption<string> Method = MagicOptions.Choice("--method",
            "The intervention: " + string.Join("; ", InterventionRegistry.All.Select(m => $"{m.Name}, {m.Summary}")) + ".", "activscalar", MethodNames);
        public static readonly MagicOption<string?> Sites = MagicOptions.Text("--sites", "Site kinds to intervene on, comma-separated.",
            string.Join(",", TrainingOptions.DefaultSiteKinds.Select(Hooks.Site.KindName)), "attn_out") with
        { Completions = _ => ["attn_out,mlp_out", "attn_out", "mlp_out", "resid_post"] };
        public static readonly MagicOption<int> Steps = MagicOptions.Int("--steps", "Optimisation steps (Adam, minibatches of --batch prompts, each at β = +1 and −1).",
            Defaults.Steps, TrainingOptions.StepsRange, example: 2);
        public static readonly MagicOption<double?> LearningRate = MagicOptions.OptionalNumber("--lr", "Adam learning rate.",
            string.Join(", ", InterventionRegistry.All.GroupBy(m => m.DefaultLearningRate).Select(g => $"{Num(g.Key)} ({string.Join(", ", g.Select(m => m.Name))})")), 0.05, TrainingOptions.LearningRateRange);
        public static readonly MagicOption<int> Batch = MagicOptions.Int("--batch",
            "Prompts per minibatch (and per evaluation batch); make it smaller if the device runs out of memory.", Defaults.BatchSize, TrainingOptions.BatchSizeRange);
        public static readonly MagicOption<int> Seed = MagicOptions.Int("--seed", "Random seed of the minibatch order (a batch holding every training prompt makes every seed give the same run).", Defaults.Seed, TrainingOptions.SeedRange);
        public static readonly MagicOption<int> FirstPosition = MagicOptions.Int("--first-position",
            "First token position intervened on, below the prompt length; earlier positions stay clean (position 0 is the attention sink).",
            Defaults.FirstPosition, TrainingOptions.FirstPositionRange, example: 0);
    }

    public static class TrainArgs
    {
        public static readonly MagicOption<double> Margin = MagicOptions.Number("--margin", "Margin m of the effectiveness term (logits).", Defaults.Loss.Margin, LossSettings.MarginRange);
        public static readonly MagicOption<double> LambdaF = MagicOptions.Number("--lambda-f", "Weight λ_F of the faithfulness (KL) term.", Defaults.Loss.LambdaF, LossSettings.LambdaFRange);
        public static readonly MagicOption<double> LambdaM = MagicOptions.Number("--lambda-m", "Weight λ_M of the ℓ1 minimality term (summed ℓ1).", Defaults.Loss.LambdaM, LossSettings.LambdaMRange);
        public static readonly MagicOption<string?> Name = MagicOptions.Text("--name", "Name of the run (a C# variable of that name holds it).", "the method's name", "run1");
    }

    public static class SweepArgs
    {
        /// <summary>The hyper-parameters --param names.</summary>
        public static readonly IReadOnlyDictionary<string, SweepParameter> Parameters = new Dictionary<string, SweepParameter>
        {
            ["lambda-m"] = SweepParameter.LambdaM, ["lambda-f"] = SweepParameter.LambdaF, ["margin"] = SweepParameter.Margin,
            ["steps"] = SweepParameter.Steps, ["lr"] = SweepParameter.LearningRate,
        };
        public static readonly MagicOption<string> Param = MagicOptions.Choice("--param", "The hyper-parameter to vary.", "lambda-m", () => Parameters.Keys);
        public static readonly MagicOption<IReadOnlyList<double>> Values = MagicOptions.Numbers("--values", "Comma-separated values.", "0,0.01") with { Positional = true };
        public static readonly MagicOption<string?> Name = MagicOptions.Text("--name", "Prefix of the runs' names.", "sweep", "sweep1");
    }

    /// <summary>The run a command works on, by name; the last run when left out.</summary>
    public static readonly MagicOption<string?> RunName = MagicOptions.Text("--run", "The run.", "the last run", "activscalar") with { Completions = RunNames, Positional = true };

    public static class CompareArgs
    {
        public static readonly MagicOption<string?> Runs = MagicOptions.Text("--runs", "Runs to compare.", "all runs", "activscalar") with
        { Completions = RunNames, Positional = true, Many = true };
    }

    public static class SaveArgs
    {
        public static readonly MagicOption<string?> Path = MagicOptions.Text("--path", "File to write.", "", "runs/run.json") with { TypeHint = "file" };
    }

    public static class ApplyArgs
    {
        public static readonly MagicOption<string?> Prompt = MagicOptions.Text("--prompt",
            "Prompt text, in quotes (an ActivScalar or SteerVec run needs its training length).", "the first test prompt", "\"The capital of France is\"");
        public static readonly MagicOption<double> Beta = MagicOptions.Number("--beta", "Strength β of the intervention (−1 reverses).", 1.0);
    }

    public static class GenerateArgs
    {
        public static readonly MagicOption<string?> Prompt = MagicOptions.Text("--prompt",
            "Prompt text, in quotes. An ActivScalar or SteerVec run acts at the prompt positions it was trained on, so the prompt needs its training length; DynScalar acts on any prompt and on every generated token.",
            "the first test prompt", "\"The capital of France is\"");
        public static readonly MagicOption<IReadOnlyList<double>> Betas = MagicOptions.Numbers("--beta",
            "Strengths β, comma-separated; the clean model (β = 0) is always shown.", "-1,1", [-1, 0, 1]);
        public static readonly MagicOption<int> MaxTokens = MagicOptions.Int("--max-tokens", "How many tokens to generate.", 20, 1, 10_000, example: 5);
        public static readonly MagicOption<double> Temperature = MagicOptions.Number("--temperature", "0 is greedy; above 0 samples from the softened distribution.", 0, 0);
        public static readonly MagicOption<int?> TopK = MagicOptions.OptionalInt("--top-k", "Sample only among the k most likely tokens.", 5);
        public static readonly MagicOption<double?> TopP = MagicOptions.OptionalNumber("--top-p", "Sample only among the most likely tokens whose probability sums to p.", "1", 0.9,
            new SettingRange("TopP", 0, 1, MinExclusive: true));
        public static readonly MagicOption<int> Seed = MagicOptions.Int("--seed", "Random seed of the sampling.", 0);
        public static readonly MagicOption<string?> Correct = MagicOptions.Text("--correct",
            "The correct answer word, scored as it follows the prompt after a space, for p(correct) of the first token.", "the task's answer when the prompt is a task prompt", "Paris");
        public static readonly MagicOption<string?> Wrong = MagicOptions.Text("--wrong", "The wrong answer word (after a space), for p(wrong) of the first token.", "the task's answer when the prompt is a task prompt", "Berlin");
    }

    /// <summary>Options of the localisation magics (beta, localize, patch, compare-maps).</summary>
    public static class LocalizeArgs
    {
        public static readonly MagicOption<IReadOnlyList<double>> BetaValues = new("--values",
            "Strengths β: from:to:step or a comma-separated list; each is measured with its negative, and β = 0 (clean) is always added.", "-3:3:0.25",
            text => Parsed(() => ActScale.Localization.BetaCurve.ParseValues(string.IsNullOrWhiteSpace(text) ? "-3:3:0.25" : text)), "-2:2:1");
        public static readonly MagicOption<IReadOnlyList<int>?> Ks = new("--k",
            "Numbers of sites to keep, comma-separated; the full run is always added.", "1,2,4,8,... up to all sites",
            text => string.IsNullOrWhiteSpace(text) ? null : Options.Doubles(text, "--k").Select(v => v >= 1 && v == Math.Floor(v) ? (int)v
                : throw new UsageException($"--k takes whole numbers of at least 1; got {Num(v)}.")).ToArray(), "1,2,4");
        public static readonly MagicOption<string?> Splits = MagicOptions.Text("--split", "Splits to measure, comma-separated.", "train,test", "test") with
        { Completions = _ => ["train,test", "train", "test"] };
    }

    public static class PatchArgs
    {
        public static readonly IReadOnlyDictionary<string, ActScale.Localization.PatchDirection> Directions = new Dictionary<string, ActScale.Localization.PatchDirection>
        {
            ["clean-to-corrupt"] = ActScale.Localization.PatchDirection.CleanIntoCorrupt,
            ["corrupt-to-clean"] = ActScale.Localization.PatchDirection.CorruptIntoClean,
            ["attribution"] = ActScale.Localization.PatchDirection.Attribution,
        };
        public static readonly MagicOption<string> Direction = MagicOptions.Choice("--direction",
            "clean-to-corrupt: each clean activation into the corrupted run (share of the LD gap recovered); corrupt-to-clean: the reverse (share destroyed); " +
            "attribution: the gradient estimate of clean-to-corrupt from one forward and one backward pass.", "clean-to-corrupt", () => Directions.Keys);
        public static readonly MagicOption<string?> Split = MagicOptions.Text("--split", "The split whose prompts are patched.", "train", "test");
        public static readonly MagicOption<int> Prompts = MagicOptions.Int("--prompts", "How many of its prompts to average over.", 32, 1, 100_000, example: 4);
        public static readonly MagicOption<string?> Name = MagicOptions.Text("--name", "Name of the map (compare-maps takes it).", "patch", "patch1");
    }

    public static class CompareMapsArgs
    {
        public static readonly MagicOption<string?> Patch = MagicOptions.Text("--patch", "The patching map's name.", "the last map", "patch");
    }

    /// <summary>A library parser's argument error as the notebook's usage error.</summary>
    private static T Parsed<T>(Func<T> parse)
    {
        try { return parse(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }

    public static class PromptsArgs
    {
        public static readonly MagicOption<string?> Split = MagicOptions.Text("--split", "Splits whose prompts are listed, comma-separated.",
            "test (train when there is no test split)", "train") with { Completions = _ => ["test", "train", "train,test"] };
        public static readonly MagicOption<bool> Failed = MagicOptions.Flag("--failed", "List only the prompts that do not succeed at both β.");
        public static readonly MagicOption<int> Top = MagicOptions.Int("--top", "How many prompts to list, worst first.", 20, 1, 100_000);
    }

    public static class SweepLoadArgs
    {
        public static readonly MagicOption<string?> Dir = MagicOptions.Text("--dir", "The sweep folder (made by actscale sweep plan).", "", "sweeps/ccc") with
        { Positional = true, TypeHint = "file" };
    }

    public static IReadOnlyList<SubcommandSpec> All { get; } =
    [
        new("load", "Loads a model: the shipped default when --model is left out, else a checkpoint folder or a Hugging Face name in the local cache.",
            [LoadArgs.Model, LoadArgs.Device, LoadArgs.Dtype]),
        new("predict", "Shows the model's top next tokens for a prompt.", [PredictArgs.Prompt, PredictArgs.Top]),
        new("data", "Makes the train and test prompts: Country-Capital Conflicts, Indirect Object Identification, or your own JSONL file (prompt, correct, wrong, split).",
            [DataArgs.Task, DataArgs.Train, DataArgs.Test, DataArgs.Seed]),
        new("train", "Trains an intervention on the loaded data with one live progress display; Ctrl+C / interrupt keeps the best parameters so far.",
            [TrainingArgs.Method, TrainingArgs.Sites, TrainArgs.Margin, TrainArgs.LambdaF, TrainArgs.LambdaM, TrainingArgs.Steps, TrainingArgs.LearningRate, TrainingArgs.Batch, TrainingArgs.Seed, TrainingArgs.FirstPosition, TrainArgs.Name]),
        new("heatmap", "Plots a run's parameters: α per site × layer and position (tokens on the axis) for ActivScalar, ‖v‖ for SteerVec, the probe for DynScalar.",
            [RunName]),
        new("compare", "A table of train and test metrics and parameter counts, one column per run.", [CompareArgs.Runs]),
        new("sweep", "Trains one run per value and plots effectiveness against minimality and against faithfulness, train and test.",
            [SweepArgs.Param, SweepArgs.Values, TrainingArgs.Method, TrainingArgs.Sites, TrainingArgs.Steps, TrainingArgs.LearningRate, TrainingArgs.Batch, TrainingArgs.Seed, TrainingArgs.FirstPosition, SweepArgs.Name]),
        new("sweep-load", "Loads a sweep trained by the actscale tool (here or as a Slurm job array): its runs join the session's runs and its trade-off plots are drawn.",
            [SweepLoadArgs.Dir]),
        new("save", "Saves a run's parameters and settings to a file that can be loaded again on the same model.", [RunName, SaveArgs.Path]),
        new("apply", "Shows the top next tokens before and after applying a run to a prompt.", [RunName, ApplyArgs.Prompt, ApplyArgs.Beta, PredictArgs.Top]),
        new("generate", "Generates text with a run at several strengths β, side by side with the clean model, and shows the first token's p(correct) and p(wrong).",
            [RunName, GenerateArgs.Prompt, GenerateArgs.Betas, GenerateArgs.MaxTokens, GenerateArgs.Temperature, GenerateArgs.TopK, GenerateArgs.TopP, GenerateArgs.Seed, GenerateArgs.Correct, GenerateArgs.Wrong]),
        new("beta", "Plots a run's mean logit difference, p(correct), p(wrong), KL and both-β success against a continuous β, train and test, the clean model at β = 0 marked.",
            [RunName, LocalizeArgs.BetaValues, LocalizeArgs.Splits]),
        new("localize", "Top-k retention: keeps the k sites with the largest effect, resets the rest to the identity, plots both-β success, effect and KL against k and reports the smallest k keeping 90% of the full effect.",
            [RunName, LocalizeArgs.Ks, LocalizeArgs.Splits]),
        new("patch", "Activation patching on the prompts' corrupted twins (the \"corrupt\" field): per site kind, layer and position, the share of the clean−corrupt logit difference a patched activation recovers, drawn with the ActivScalar heatmap's axes.",
            [TrainingArgs.Sites, PatchArgs.Direction, PatchArgs.Split, PatchArgs.Prompts, PatchArgs.Name]),
        new("compare-maps", "Puts a run's learned effect map beside a patching map: Spearman rank correlation of their magnitudes, top-k overlap, both heatmaps side by side.",
            [RunName, CompareMapsArgs.Patch]),
        new("prompts", "A run's result on each prompt of the loaded data, worst first (by the smaller signed logit difference of β = +1 and β = −1): which prompts it fails on, its top tokens there and its KL.",
            [RunName, PromptsArgs.Split, PromptsArgs.Failed, PromptsArgs.Top]),
        new("runs", "Lists the runs trained in this session.", []),
        new("help", "Shows every subcommand with its options.", []),
    ];

    public static SubcommandSpec Find(string name) => All.First(s => s.Name == name);
}
