using System.Globalization;
using System.Net;
using System.Text;
using ActScale.Evaluation;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Persistence;
using ActScale.Runtime;
using ActScale.Tasks;
using ActScale.Training;
using Microsoft.DotNet.Interactive;

namespace ActScale.Notebook;

internal sealed partial class CommandHandlers
{
    public async Task Data(ActScaleData command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var task = string.IsNullOrWhiteSpace(command.Task) ? "ccc" : command.Task.Trim();
        int trainCount = Options.Int(command.Train, "--train", 32, 1, 100_000);
        int testCount = Options.Int(command.Test, "--test", 32, 0, 100_000);
        int seed = Options.Int(command.Seed, "--seed", 0);
        IReadOnlyList<PromptExample> all;
        string source;
        string? note = null;
        switch (task.ToLowerInvariant())
        {
            case "ccc":
            case "ioi":
            {
                var lists = DataLocator.ListsFolder();
                var templates = TemplateSet.ReadOrBuiltIn(Path.Combine(lists, "templates.json"));
                all = task.Equals("ccc", StringComparison.OrdinalIgnoreCase)
                    ? TaskGenerators.Ccc(WordLists.ReadCountries(Path.Combine(lists, "countries.tsv")), templates, new CccOptions(Seed: 17 + seed), model.Tokenizer)
                    : TaskGenerators.Ioi(WordLists.ReadNames(Path.Combine(lists, "names.txt")), templates, new IoiOptions(Seed: 23 + seed), model.Tokenizer);
                // One prompt length for every method, so ActivScalar, SteerVec and DynScalar are compared on the same prompts.
                var (kept, dropped) = TaskValidator.KeepOneLength(all, model.Tokenizer);
                all = kept;
                note = dropped;
                source = task.ToUpperInvariant() + " (generated)";
                break;
            }
            default:
                if (!File.Exists(task))
                    throw new UsageException($"--task must be ccc, ioi or the path of a .jsonl file; '{task}' is neither (no such file in {Environment.CurrentDirectory}).");
                all = TaskFile.Read(task);
                source = Path.GetFileName(task);
                break;
        }
        var random = new Random(seed);
        PromptExample[] Take(string split, int n) =>
            all.Where(e => e.Split == split).OrderBy(_ => random.Next()).Take(n).ToArray();
        var train = Take(PromptExample.Train, trainCount);
        var test = Take(PromptExample.Test, testCount);
        if (train.Length == 0) throw new UsageException($"{source} has no prompts with split \"train\"; a task file needs train prompts (and test prompts for held-out metrics).");
        var examples = train.Concat(test).ToArray();
        // Validate now (answers single tokens, lengths) so mistakes show here and not at train time.
        TaskValidator.Validate(examples, model.Tokenizer, model.Config.ContextLength, samePromptLength: false);
        session.SetData(examples, source);
        await session.ShareAsync("prompts", examples, typeof(IReadOnlyList<PromptExample>));

        var lengths = examples.Select(e => model.Tokenizer.Encode(e.Prompt).Length).Distinct().Order().ToArray();
        var html = new StringBuilder();
        html.Append($"<div class=\"actscale-data\"><b>{WebUtility.HtmlEncode(source)}</b>: {train.Length} train and {test.Length} test prompts, " +
                    $"{(lengths.Length == 1 ? $"all {lengths[0]} tokens long" : $"lengths {string.Join(", ", lengths)} tokens (ActivScalar and SteerVec will use the most common length)")}.");
        if (note is not null) html.Append($" <i>{WebUtility.HtmlEncode(note)}.</i>");
        html.Append(" The C# variable <code>prompts</code> holds them.");
        html.Append("<table><tr><th>split</th><th style=\"text-align:left\">prompt</th><th>correct</th><th>wrong</th></tr>");
        foreach (var e in train.Take(2).Concat(test.Take(1)))
            html.Append($"<tr><td>{e.Split}</td><td style=\"text-align:left\">{WebUtility.HtmlEncode(e.Prompt)}</td><td><code>{Predictions.Show(e.Correct)}</code></td><td><code>{Predictions.Show(e.Wrong)}</code></td></tr>");
        html.Append("</table></div>");
        context.Display(new ActScaleHtml(html.ToString()), "text/html");
    }

    private static InterventionMethod ParseMethod(string? text) =>
        InterventionRegistry.Get(Options.Choice(text, "--method", "activscalar",
            InterventionRegistry.All.Select(m => m.Name.ToLowerInvariant()).ToArray()));

    private static SiteKind[] ParseSites(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return TrainingOptions.DefaultSiteKinds;
        try
        {
            return Options.Split(text).Select(Site.ParseKind).Distinct().ToArray();
        }
        catch (ArgumentException e) { throw new UsageException("--sites: " + e.Message); }
    }

    private TrainingOptions ParseTraining(InterventionMethod method, string? sites, string? margin, string? lambdaF, string? lambdaM, string? steps, string? lr, string? seed, string? batch = null)
    {
        var d = new TrainingOptions { Method = method };
        var options = d with
        {
            SiteKinds = ParseSites(sites),
            Loss = new LossSettings
            {
                Margin = Options.Double(margin, "--margin", d.Loss.Margin, 0),
                LambdaF = Options.Double(lambdaF, "--lambda-f", d.Loss.LambdaF, 0),
                LambdaM = Options.Double(lambdaM, "--lambda-m", d.Loss.LambdaM, 0),
            },
            Steps = Options.Int(steps, "--steps", d.Steps, 0, 1_000_000),
            Seed = Options.Int(seed, "--seed", d.Seed),
            BatchSize = Options.Int(batch, "--batch", d.BatchSize, 1, 1_000_000),
        };
        return string.IsNullOrWhiteSpace(lr) ? options : options with { LearningRate = LearningRate(lr) };
    }

    /// <summary>--lr, range-checked by the library's one check so the notebook cannot disagree with it.</summary>
    private static double LearningRate(string text)
    {
        var rate = Options.Double(text, "--lr", InterventionMethod.ActivScalar.DefaultLearningRate);
        try { TrainingOptions.CheckLearningRate(rate); }
        catch (ArgumentException e) { throw new UsageException("--lr: " + e.Message); }
        return rate;
    }

    public async Task Train(ActScaleTrain command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var method = ParseMethod(command.Method);
        var options = ParseTraining(method, command.Sites, command.Margin, command.LambdaF, command.LambdaM, command.Steps, command.Lr, command.Seed, command.Batch);
        var name = string.IsNullOrWhiteSpace(command.Name) ? method.ToString().ToLowerInvariant() : command.Name.Trim();
        var (task, note) = session.RequireTask(method);
        using var training = session.BeginTraining($"training '{name}'");

        var display = new LiveDisplay(context, session.LiveUpdates, TrainingView.Html(name, options, null, "starting…"));
        var shown = new InlineProgress<TrainingProgress>(p => display.Update(TrainingView.Html(name, options, p, "training")));
        // The step probe (tests only) sees each report on the training thread and may throw, as a failing step would.
        var probe = session.StepProbe;
        IProgress<TrainingProgress> progress = probe is null ? shown : new InlineProgress<TrainingProgress>(p => { probe(p); shown.Report(p); }, swallow: false);
        var evaluation = new EvaluationOptions(BatchSize: options.BatchSize);
        InterventionRun run;
        try
        {
            run = await Task.Run(() => Trainer.Train(model, task, options, name, progress, context.CancellationToken));
        }
        catch (DeviceOutOfMemoryException oom)
        {
            display.Finish(TrainingView.Html(name, options, null, "out of memory"));
            throw new UsageException($"Training '{name}' stopped: {oom.Message} No run named '{name}' was added; earlier runs are still here.");
        }
        catch (TrainingDivergedException diverged)
        {
            var kept = await KeepAsync(new NotebookRun(diverged.LastGoodRun, Evaluator.Evaluate(model, diverged.LastGoodRun, task, evaluation)));
            display.Finish(TrainingView.Html(name, options, diverged.LastGoodRun.History.LastOrDefault(), "diverged"));
            throw new UsageException($"{diverged.Message} The run '{kept.Name}' keeps the last finite parameters. Try a smaller --lr.");
        }
        var last = run.History.LastOrDefault();
        IReadOnlyList<MetricRow> metrics;
        try
        {
            metrics = Evaluator.Evaluate(model, run, task, evaluation);
        }
        catch (DeviceOutOfMemoryException oom)
        {
            run.Dispose();
            display.Finish(TrainingView.Html(name, options, last, "out of memory while evaluating"));
            throw new UsageException($"Training '{name}' finished but evaluating it failed: {oom.Message} No run named '{name}' was added; earlier runs are still here.");
        }
        var record = await KeepAsync(new NotebookRun(run, metrics));
        var state = run.Cancelled ? $"interrupted after {run.StepsCompleted} steps: kept the best parameters seen" : $"done in {run.TrainingTime.TotalSeconds:F1} s";
        display.Finish(TrainingView.Html(name, options, last, state));
        context.Display(new ActScaleHtml(TrainingView.SummaryHtml(record, note)), "text/html");
    }

    private async Task<NotebookRun> KeepAsync(NotebookRun record)
    {
        session.AddRun(record.Name, record);
        await session.ShareRunsAsync();
        return record;
    }

    public Task Heatmap(ActScaleHeatmap command, KernelInvocationContext context)
    {
        var record = session.RequireRun<NotebookRun>(command.Run);
        var view = record.Run.Heatmap();
        var figure = PlotlyHtml.Heatmap(view.Title + (view.Diverging ? " (0 = no change)" : ""), view.RowLabels, view.AxisLabels, view.Values, view.ValueName,
            view.Neutral, view.Diverging, xTitle: view.ColumnTitle);
        context.Display(new ActScaleHtml(PlotlyHtml.Render(figure)), "text/html");
        return Task.CompletedTask;
    }

    public async Task Compare(ActScaleCompare command, KernelInvocationContext context)
    {
        var typed = command.TypedPositionalWords("compare");
        var names = typed.Count > 0 ? typed.ToArray()
            : string.IsNullOrWhiteSpace(command.Runs) ? session.RunNames.ToArray() : Options.Split(command.Runs);
        var records = names.Select(n => session.RequireRun<NotebookRun>(n)).ToArray();
        if (records.Length == 0) throw new UsageException("No run has been trained yet. Run `#!actscale train` first.");
        var rows = records.SelectMany(r => r.Metrics).ToArray();
        await session.ShareAsync("comparison", rows, typeof(IReadOnlyList<MetricRow>));
        if (session.DeedleUsable()) await ShareFrameAsync(rows);
        context.Display(new ActScaleHtml(ComparisonTable.Html(records)), "text/html");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private Task ShareFrameAsync(MetricRow[] rows) => session.ShareAsync("comparisonFrame", Evaluator.ToFrame(rows), typeof(Deedle.Frame<int, string>));

    public async Task Sweep(ActScaleSweep command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var method = ParseMethod(command.Method);
        var param = Options.Choice(command.Param, "--param", "lambda-m", "lambda-m", "lambda-f", "margin");
        var values = Options.Doubles(command.Values, "--values");
        var baseOptions = ParseTraining(method, command.Sites, null, null, null, command.Steps, command.Lr, command.Seed, command.Batch);
        var grid = param switch
        {
            "lambda-f" => new SweepGrid([baseOptions.Loss.LambdaM], LambdaF: values.ToArray()),
            "margin" => new SweepGrid([baseOptions.Loss.LambdaM], Margin: values.ToArray()),
            _ => new SweepGrid(values.ToArray()),
        };
        var (task, _) = session.RequireTask(method);
        using var training = session.BeginTraining("a sweep");
        var lines = new List<string>();
        var display = new LiveDisplay(context, session.LiveUpdates, $"<div>Sweep of {param} over {values.Count} values: starting…</div>");
        var progress = new InlineProgress<string>(line =>
        {
            lines.Add(line);
            display.Update($"<div>Sweep of {WebUtility.HtmlEncode(param)}: {lines.Count}/{values.Count} settings<br/><code>{WebUtility.HtmlEncode(line)}</code></div>");
        });
        var result = await Task.Run(() => Evaluation.Sweep.Run(model, task, baseOptions, grid, null, progress, context.CancellationToken));
        var prefix = string.IsNullOrWhiteSpace(command.Name) ? "sweep" : command.Name.Trim();
        session.Sweeps[prefix] = result;
        await session.ShareAsync("sweep", result, typeof(SweepResult));
        display.Finish($"<div>Sweep of {WebUtility.HtmlEncode(param)}: {values.Count - result.Failures.Count} of {values.Count} settings trained; the C# variable <code>sweep</code> holds the rows.</div>");
        foreach (var f in result.Failures)
            context.Display(new ActScaleHtml($"<div style=\"color:#b00\">λM={f.LambdaM:G3} λF={f.LambdaF:G3} m={f.Margin:G3}: {WebUtility.HtmlEncode(f.Message)}</div>"), "text/html");
        foreach (var figure in SweepPlots.Figures(result, param, method))
            context.Display(new ActScaleHtml(PlotlyHtml.Render(figure)), "text/html");
    }

    public Task Save(ActScaleSave command, KernelInvocationContext context)
    {
        if (string.IsNullOrWhiteSpace(command.Run) && string.IsNullOrWhiteSpace(command.Path))
            throw new UsageException("save needs a run and a file: #!actscale save activscalar --path runs/activscalar.json");
        var parts = Options.Split(command.Run ?? "");
        var runName = parts.FirstOrDefault();
        var path = command.Path ?? (parts.Length > 1 ? parts[1] : null);
        if (string.IsNullOrWhiteSpace(path))
            throw new UsageException($"save needs a file to write: #!actscale save {runName ?? "RUN"} --path runs/{runName ?? "run"}.json");
        var record = session.RequireRun<NotebookRun>(runName);
        var written = RunStore.Save(record.Run, path);
        context.Display(new ActScaleHtml($"<div>Saved run <b>{WebUtility.HtmlEncode(record.Name)}</b> to <code>{WebUtility.HtmlEncode(Path.GetFullPath(written))}</code>.</div>"), "text/html");
        return Task.CompletedTask;
    }

    public Task Apply(ActScaleApply command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var record = session.RequireRun<NotebookRun>(command.Run);
        var beta = Options.Double(command.Beta, "--beta", 1.0);
        var top = Options.Int(command.Top, "--top", 5, 1, 100);
        var prompt = command.Prompt;
        if (string.IsNullOrWhiteSpace(prompt))
        {
            var length = record.Run.PromptLength;
            prompt = session.Examples?.Where(e => e.Split == PromptExample.Test).Concat(session.Examples)
                .FirstOrDefault(e => length is null || model.Tokenizer.Encode(e.Prompt).Length == length)?.Prompt
                ?? throw new UsageException("apply needs a prompt: #!actscale apply RUN --prompt \"...\"");
        }
        var comparison = Reapply.TopTokens(model, record.Run, prompt, top, beta);
        context.Display(new ActScaleHtml(ComparisonTable.TopTokensHtml(record.Name, comparison)), "text/html");
        return Task.CompletedTask;
    }

    public Task Runs(ActScaleRuns command, KernelInvocationContext context)
    {
        if (session.RunNames.Count == 0)
        {
            context.Display(new ActScaleHtml("<div>No runs yet. Train one with <code>#!actscale train</code>.</div>"), "text/html");
            return Task.CompletedTask;
        }
        var html = new StringBuilder("<table><tr><th style=\"text-align:left\">run</th><th>method</th><th>parameters</th><th>steps</th><th>settings</th></tr>");
        foreach (var name in session.RunNames)
        {
            var r = session.RequireRun<NotebookRun>(name).Run;
            html.Append($"<tr><td style=\"text-align:left\"><b>{WebUtility.HtmlEncode(name)}</b></td><td>{r.Method}</td><td>{r.ParameterCount:N0}</td><td>{r.StepsCompleted}{(r.Cancelled ? " (interrupted)" : "")}</td><td style=\"text-align:left\"><code>{WebUtility.HtmlEncode(r.Options.ToString())}</code></td></tr>");
        }
        context.Display(new ActScaleHtml(html.Append("</table>").ToString()), "text/html");
        return Task.CompletedTask;
    }
}

/// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to a context that may never run).</summary>
internal sealed class InlineProgress<T>(Action<T> report, bool swallow = true) : IProgress<T>
{
    public void Report(T value)
    {
        if (!swallow) { report(value); return; }
        try { report(value); } catch (Exception) { /* a display that cannot update must not stop training */ }
    }
}
