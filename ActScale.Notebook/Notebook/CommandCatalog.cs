using System.Net;
using System.Text;

namespace ActScale.Notebook;

/// <summary>One option of a subcommand, as registered with the kernel and as shown in help.</summary>
public sealed record OptionSpec(
    string Name,
    string Description,
    string? Default = null,
    Func<NotebookSession, IEnumerable<string>>? Completions = null,
    bool Positional = false,
    bool Many = false,
    bool Flag = false,
    string TypeHint = "text");

/// <summary>One <c>#!actscale</c> subcommand: what it does, how to type it, its options.</summary>
public sealed record SubcommandSpec(string Name, string Usage, string Summary, IReadOnlyList<OptionSpec> Options)
{
    public string HelpHtml()
    {
        var html = new StringBuilder();
        html.Append($"<div style=\"margin-bottom:8px\"><b><code>#!actscale {WebUtility.HtmlEncode(Usage)}</code></b><br/>{WebUtility.HtmlEncode(Summary)}");
        if (Options.Count > 0)
        {
            html.Append("<table style=\"margin-top:4px\"><tr><th style=\"text-align:left\">option</th><th style=\"text-align:left\">meaning</th><th style=\"text-align:left\">default</th></tr>");
            foreach (var o in Options)
                html.Append($"<tr><td><code>{WebUtility.HtmlEncode(o.Name)}</code>{(o.Positional ? " (name optional)" : "")}</td><td style=\"text-align:left\">{WebUtility.HtmlEncode(o.Description)}</td><td><code>{WebUtility.HtmlEncode(o.Default ?? "")}</code></td></tr>");
            html.Append("</table>");
        }
        return html.Append("</div>").ToString();
    }
}

/// <summary>Every subcommand of <c>#!actscale</c>, with its options and defaults, in the order help lists them.</summary>
public static class CommandCatalog
{
    public const string DefaultSites = "attn_out,mlp_out";

    private static IEnumerable<string> RunNames(NotebookSession s) => s.RunNames;

    // Defaults come from the method's own options, so help never disagrees with what training does.
    private static readonly ActScale.Training.TrainingOptions Defaults = new();
    private static string Num(double v) => v.ToString("G", System.Globalization.CultureInfo.InvariantCulture);

    public static IReadOnlyList<SubcommandSpec> All { get; } =
    [
        new("load", "load [--model PATH|NAME] [--device auto|cpu|cuda|cuda:N] [--dtype float32|bfloat16|float16]",
            "Loads a model: the shipped default when --model is left out, else a checkpoint folder or a Hugging Face name in the local cache.",
            [
                new("--model", "Checkpoint folder (config.json, model.safetensors, vocab.json, merges.txt) or cached Hugging Face name.", "the shipped actscale-capitals-ioi", TypeHint: "file"),
                new("--device", "Where to compute.", "auto", _ => ["auto", "cpu", "cuda", "cuda:0", "cuda:1"]),
                new("--dtype", "Number type of the weights; bfloat16/float16 only on CUDA.", "float32", _ => ["float32", "bfloat16", "float16"]),
            ]),
        new("predict", "predict --prompt \"...\" [--top K]",
            "Shows the model's top next tokens for a prompt.",
            [
                new("--prompt", "The prompt text, in quotes.", Positional: true),
                new("--top", "How many tokens to list.", "5"),
            ]),
        new("data", "data --task ccc|ioi|PATH.jsonl [--train N] [--test N] [--seed S]",
            "Makes the train and test prompts: Country-Capital Conflicts, Indirect Object Identification, or your own JSONL file (prompt, correct, wrong, split).",
            [
                new("--task", "ccc, ioi or the path of a .jsonl file.", "ccc", _ => ["ccc", "ioi"], Positional: true, TypeHint: "file"),
                new("--train", "Number of training prompts.", "32"),
                new("--test", "Number of held-out test prompts.", "32"),
                new("--seed", "Random seed for sampling the prompts.", "0"),
            ]),
        new("train", "train [--method activscalar|steervec|dynscalar] [--sites attn_out,mlp_out] [--margin M] [--lambda-f X] [--lambda-m Y] [--steps N] [--lr R] [--batch B] [--seed S] [--name RUN]",
            "Trains an intervention on the loaded data with one live progress display; Ctrl+C / interrupt keeps the best parameters so far.",
            [
                new("--method", "ActivScalar (one scalar per site, layer, position), SteerVec (one vector each) or DynScalar (a probe per site and layer).", "activscalar", _ => ["activscalar", "steervec", "dynscalar"]),
                new("--sites", "Site kinds to intervene on, comma-separated.", DefaultSites, _ => ["attn_out,mlp_out", "attn_out", "mlp_out", "resid_post"]),
                new("--margin", "Margin m of the effectiveness term (logits).", Num(Defaults.Margin)),
                new("--lambda-f", "Weight λ_F of the faithfulness (KL) term.", Num(Defaults.LambdaF)),
                new("--lambda-m", "Weight λ_M of the ℓ1 minimality term (summed ℓ1).", Num(Defaults.LambdaM)),
                new("--steps", "Optimisation steps (Adam, minibatches of --batch prompts, each at β = +1 and −1).", Num(Defaults.Steps)),
                new("--lr", "Adam learning rate.", $"{Num(ActScale.Training.TrainingOptions.DefaultLearningRate(ActScale.Interventions.InterventionMethod.ActivScalar))} (DynScalar {Num(ActScale.Training.TrainingOptions.DefaultLearningRate(ActScale.Interventions.InterventionMethod.DynScalar))})"),
                new("--batch", "Prompts per minibatch (and per evaluation batch); make it smaller if the device runs out of memory.", Num(Defaults.BatchSize)),
                new("--seed", "Random seed.", "0"),
                new("--name", "Name of the run (a C# variable of that name holds it).", "the method's name"),
            ]),
        new("heatmap", "heatmap [RUN]",
            "Plots a run's parameters: α per site × layer and position (tokens on the axis) for ActivScalar, ‖v‖ for SteerVec, |w| for DynScalar.",
            [new("--run", "The run to plot.", "the last run", RunNames, Positional: true)]),
        new("compare", "compare [RUN ...]",
            "A table of train and test metrics and parameter counts, one column per run.",
            [new("--runs", "Runs to compare.", "all runs", RunNames, Positional: true, Many: true)]),
        new("sweep", "sweep --param lambda-m|lambda-f|margin|steps|lr --values a,b,c [--method M] [--sites S] [--steps N] [--lr R] [--batch B] [--name PREFIX]",
            "Trains one run per value and plots effectiveness against minimality and against faithfulness, train and test.",
            [
                new("--param", "The hyper-parameter to vary.", "lambda-m", _ => ["lambda-m", "lambda-f", "margin", "steps", "lr"]),
                new("--values", "Comma-separated values.", Positional: true),
                new("--method", "Method to train.", "activscalar", _ => ["activscalar", "steervec", "dynscalar"]),
                new("--sites", "Site kinds.", DefaultSites),
                new("--steps", "Steps per run.", Num(Defaults.Steps)),
                new("--lr", "Learning rate.", "the method's default"),
                new("--batch", "Prompts per minibatch; make it smaller if the device runs out of memory.", Num(Defaults.BatchSize)),
                new("--seed", "Random seed.", "0"),
                new("--name", "Prefix of the runs' names.", "sweep"),
            ]),
        new("sweep-load", "sweep-load DIR",
            "Loads a sweep trained by the actscale tool (here or as a Slurm job array): its runs join the session's runs and its trade-off plots are drawn.",
            [new("--dir", "The sweep folder (made by actscale sweep plan).", Positional: true, TypeHint: "file")]),
        new("save", "save RUN --path PATH",
            "Saves a run's parameters and settings to a file that can be loaded again on the same model.",
            [
                new("--run", "The run to save.", null, RunNames, Positional: true),
                new("--path", "File to write.", TypeHint: "file"),
            ]),
        new("apply", "apply RUN --prompt \"...\" [--beta B] [--top K]",
            "Shows the top next tokens before and after applying a run to a prompt.",
            [
                new("--run", "The run to apply.", null, RunNames, Positional: true),
                new("--prompt", "Prompt text, in quotes (an ActivScalar or SteerVec run needs its training length).", "the first test prompt"),
                new("--beta", "Strength β of the intervention (−1 reverses).", "1"),
                new("--top", "How many tokens to list.", "5"),
            ]),
        new("runs", "runs", "Lists the runs trained in this session.", []),
        new("help", "help", "Shows every subcommand with its options.", []),
    ];

    public static SubcommandSpec Find(string name) => All.First(s => s.Name == name);
}
