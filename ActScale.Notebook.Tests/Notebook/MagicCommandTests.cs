using Microsoft.DotNet.Interactive.Events;
using System.Text.RegularExpressions;
using ActScale.Notebook;
using ActScale.Tests.Support;
using Xunit.Abstractions;

namespace ActScale.Tests.Notebook;

/// <summary>
/// Drives a real composite kernel (C#) with the extension loaded, as a notebook does, on a tiny random GPT-2:
/// the tests check what the magics publish, not how the method computes it.
/// </summary>
public sealed class MagicCommandTests(ITestOutputHelper output, MagicCommandTests.TrainedSession session) : IClassFixture<MagicCommandTests.TrainedSession>
{
    /// <summary>One kernel with a model, CCC prompts and the three methods trained for a few steps, shared by the tests.</summary>
    public sealed class TrainedSession : IAsyncLifetime
    {
        private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();
        public NotebookKernel Kernel { get; } = new();
        public Dictionary<string, NotebookKernel.Result> Results { get; } = new();

        public async Task InitializeAsync()
        {
            TinyCheckpoints.WriteGpt2(_folder.Path);
            // The test kernel is headless (AutomationEnvironment); show progress as an interactive notebook does.
            NotebookSession.For(Kernel.Kernel).LiveUpdates = LiveUpdates.Always;
            foreach (var (key, code) in new[]
                     {
                         ("load", $"#!actscale load --model \"{_folder.Path}\" --device cpu"),
                         ("data", "#!actscale data --task ccc --train 8 --test 4 --seed 1"),
                         ("activscalar", "#!actscale train --method activscalar --steps 4 --lr 0.05"),
                         ("steervec", "#!actscale train --method steervec --steps 4 --lr 0.05"),
                         ("dynscalar", "#!actscale train --method dynscalar --steps 4 --lr 0.05 --name dyn"),
                     })
            {
                var result = await Kernel.SubmitAsync(code);
                if (!result.Succeeded) throw new InvalidOperationException($"{code}\n{result}");
                Results[key] = result;
            }
        }

        public Task DisposeAsync()
        {
            Kernel.Dispose();
            _folder.Dispose();
            return Task.CompletedTask;
        }
    }

    private readonly TrainedSession _session = session;
    private NotebookKernel Kernel => _session.Kernel;

    /// <summary>Submits <paramref name="code"/> to the shared kernel and checks that it succeeds and shows every fragment.</summary>
    private async Task AssertDisplays(string code, params string[] fragments)
    {
        var result = await Kernel.SubmitAsync(code);
        Assert.True(result.Succeeded, result.ToString());
        foreach (var fragment in fragments) Assert.Contains(fragment, result.AllHtml);
    }

    [Fact]
    public void Extension_registers_the_actscale_directive_with_its_subcommands()
    {
        var directive = Kernel.Kernel.KernelInfo.SupportedDirectives.OfType<Microsoft.DotNet.Interactive.Directives.KernelActionDirective>()
            .Single(d => d.Name == "#!actscale");
        var names = directive.Subcommands.Select(s => s.Name).ToArray();
        foreach (var expected in new[] { "load", "data", "train", "heatmap", "compare", "sweep", "save", "apply" })
            Assert.Contains(expected, names);
    }

    [Fact]
    public void Training_shows_one_display_that_is_updated_in_place()
    {
        var training = _session.Results["activscalar"];
        var displayed = training.Events.OfType<Microsoft.DotNet.Interactive.Events.DisplayedValueProduced>()
            .Where(e => e.FormattedValues.Any(v => v.Value.Contains("actscale-training"))).ToArray();
        var updates = training.Events.OfType<Microsoft.DotNet.Interactive.Events.DisplayedValueUpdated>().ToArray();
        Assert.Single(displayed);
        Assert.NotEmpty(updates);
        Assert.All(updates, u => Assert.Equal(displayed[0].ValueId, u.ValueId));
        Assert.Contains("done in", updates[^1].FormattedValues.Single(v => v.MimeType == "text/html").Value);
    }

    [Fact]
    public async Task Heatmap_carries_site_by_layer_rows_and_token_labelled_positions()
    {
        var result = await Kernel.SubmitAsync("#!actscale heatmap activscalar");
        output.WriteLine(result.ToString());
        Assert.True(result.Succeeded, result.ToString());
        var html = result.AllHtml;
        Assert.Contains("Plotly.newPlot", html);
        var figure = Regex.Match(html, @"var figure = (\{.*?\});\n").Groups[1].Value;
        var json = System.Text.Json.Nodes.JsonNode.Parse(figure)!;
        var trace = json["data"]![0]!;
        var rows = trace["y"]!.AsArray().Select(n => (string)n!).ToArray();
        var columns = trace["x"]!.AsArray().Select(n => (string)n!).ToArray();
        Assert.Equal(["L0 attn_out", "L0 mlp_out", "L1 attn_out", "L1 mlp_out"], rows);
        // Columns are the training prompt's tokens, numbered so repeated tokens stay apart.
        Assert.Contains(columns, c => c.EndsWith(":The", StringComparison.Ordinal) || c.Contains(" capital", StringComparison.Ordinal));
        Assert.Equal(columns.Length, columns.Distinct().Count());
        Assert.Equal(rows.Length, trace["z"]!.AsArray().Count);
        Assert.Equal(columns.Length, trace["z"]![0]!.AsArray().Count);
        Assert.Equal(0, (double)trace["zmid"]!);
        Assert.Equal("RdBu", (string)trace["colorscale"]!);
        // Beside α: the effect on the held-out prompts, on a scale every method shares.
        Assert.Contains("relative change ‖h̃ − h‖/‖h‖ at β = +1", html);
    }

    [Fact]
    public async Task SteerVec_heatmap_plots_vector_norms()
    {
        var result = await Kernel.SubmitAsync("#!actscale heatmap steervec");
        Assert.True(result.Succeeded, result.ToString());
        var figure = Regex.Match(result.AllHtml, @"var figure = (\{.*?\});\n").Groups[1].Value;
        var trace = System.Text.Json.Nodes.JsonNode.Parse(figure)!["data"]![0]!;
        Assert.Equal("‖v‖₂", (string)trace["colorbar"]!["title"]!["text"]!);
        Assert.Equal("Viridis", (string)trace["colorscale"]!);
    }

    [Fact]
    public async Task Comparison_table_lists_the_three_methods_with_numbers()
    {
        var result = await Kernel.SubmitAsync("#!actscale compare activscalar steervec dyn");
        output.WriteLine(result.ToString());
        Assert.True(result.Succeeded, result.ToString());
        var table = result.Html.Single(h => h.Contains("actscale-comparison"));
        foreach (var method in new[] { "ActivScalar", "SteerVec", "DynScalar" }) Assert.Contains($"<td>{method}</td>", table);
        // Parameter counts: ActivScalar 2 sites × 2 layers × I, SteerVec × width 32, DynScalar 2 × 2 × (32 + 1).
        var counts = Regex.Match(table, "<th style=\"text-align:left\">parameters</th><td>([0-9,]+)</td><td>([0-9,]+)</td><td>([0-9,]+)</td>");
        Assert.True(counts.Success, table);
        long a = long.Parse(counts.Groups[1].Value.Replace(",", "")), s = long.Parse(counts.Groups[2].Value.Replace(",", "")), d = long.Parse(counts.Groups[3].Value.Replace(",", ""));
        Assert.Equal(a * 32, s);
        Assert.Equal(2 * 2 * 33, d);
        Assert.Matches(@"train: clean accuracy \(β=0\)</th><td>\d+%</td><td>\d+%</td><td>\d+%</td>", table);
        Assert.Matches(@"train: flip accuracy β=\+1 \(clean, change\)</th><td>\d+% \(\d+%, [+−]?\d+ pts\)</td>", table);
        Assert.Matches(@"test: both-β success</th><td>\d+%</td>", table);
        Assert.Matches(@"test: top-1 guard β=−1</th><td>\d+%</td>", table);
        // The C# variable is the metrics as a Deedle frame (two splits × three β, the clean 0 and ±1, per run).
        var variable = await Kernel.SubmitAsync("comparison.RowCount");
        Assert.True(variable.Succeeded, variable.ToString());
        Assert.Contains(variable.Events.OfType<ReturnValueProduced>(), e => Equals(e.Value, 18));
    }

    [Fact]
    public async Task Runs_and_frames_become_csharp_variables()
    {
        var result = await Kernel.SubmitAsync("runs[\"steervec\"].Run.Method.Name + \" \" + frames[\"dyn\"].RowCount + \" \" + metrics.Count");
        Assert.True(result.Succeeded, result.ToString());
        var value = result.Events.OfType<Microsoft.DotNet.Interactive.Events.ReturnValueProduced>().Single().Value;
        // dyn has train and test rows at β = 0 and ±1; the three runs of the fixture have six rows each.
        Assert.Equal("SteerVec 6 18", value);
    }

    [Fact]
    public Task A_run_heatmap_computed_in_csharp_displays_as_the_plot() =>
        AssertDisplays("runs[\"activscalar\"].Heatmap()", "Plotly.newPlot", "\"type\":\"heatmap\"");

    [Fact]
    public async Task A_sweep_plots_its_trade_offs_and_its_result_displays_the_same_charts()
    {
        var magic = await Kernel.SubmitAsync("#!actscale sweep --method activscalar --param lambda-m --values 0,0.01 --steps 2 --name sw");
        Assert.True(magic.Succeeded, magic.ToString());
        var variable = await Kernel.SubmitAsync("sweep");
        Assert.True(variable.Succeeded, variable.ToString());
        foreach (var html in new[] { magic.AllHtml, variable.AllHtml })
        {
            Assert.Equal(2, Regex.Matches(html, "Plotly.newPlot").Count);
            Assert.Contains("\"type\":\"scatter\"", html);
            Assert.Contains("effectiveness vs minimality over λ_M", html);
        }
    }

    [Fact]
    public async Task Deedle_frames_display_as_html_tables()
    {
        var result = await Kernel.SubmitAsync("frames[\"dyn\"]");
        Assert.True(result.Succeeded, result.ToString());
        var table = result.Html.Single();
        Assert.StartsWith("<table class=\"actscale-frame\">", table);
        Assert.Contains("<th>FlipAccuracy</th>", table);
        Assert.Contains("<td>train</td>", table);
    }

    [Fact]
    public Task A_top_token_comparison_computed_in_csharp_displays_as_the_apply_table() =>
        AssertDisplays("ActScale.Evaluation.Reapply.TopTokens(model, runs[\"dyn\"].Run, \"The capital of France is\", 3, 1.0)",
            "<div class=\"actscale-apply\">Applied at β = 1");

    [Fact]
    public Task Apply_shows_top_tokens_before_and_after() =>
        AssertDisplays("#!actscale apply dyn --prompt \"The capital of France is\" --top 3", "actscale-apply");

    [Theory]
    [InlineData("#!actscale train --lr abc", "--lr needs a number, not 'abc'")]
    [InlineData("#!actscale train --method magic", "--method must be one of activscalar, steervec, dynscalar")]
    [InlineData("#!actscale train --steps -3", "--steps: Steps must be ≥ 0 and ≤ 1000000; got -3")]
    [InlineData("#!actscale train --sites attn_in", "Unknown site kind 'attn_in'")]
    [InlineData("#!actscale load --bogus 1", "#!actscale load has no option --bogus")]
    [InlineData("#!actscale heatmap nope", "There is no run named 'nope'")]
    [InlineData("#!actscale compare activscalar nope", "There is no run named 'nope'")]
    [InlineData("#!actscale apply nope --prompt \"x\"", "There is no run named 'nope'")]
    [InlineData("#!actscale save activscalar", "save needs a file to write")]
    [InlineData("#!actscale data --task /no/such/file.jsonl", "--task: The task must be ccc, ioi, ioi-abba, ioi-baba or the path of a .jsonl file")]
    [InlineData("#!actscale fly", "#!actscale has no subcommand 'fly'")]
    [InlineData("#!actscale train --lr", "--lr needs a value")]
    [InlineData("#!actscale train --lr --steps 3", "--lr needs a value")]
    [InlineData("#!actscale train --batch abc", "--batch needs a whole number, not 'abc'")]
    [InlineData("#!actscale train --batch 0", "--batch: BatchSize must be ≥ 1 and ≤ 1000000; got 0")]
    [InlineData("#!actscale save", "save needs a run and a file")]
    [InlineData("#!actscale train --steps 1 --name", "--name needs a value")]
    [InlineData("#!actscale heatmap --run", "--run needs a value")]
    public async Task Mistakes_fail_the_command_with_a_message_and_keep_the_runs(string code, string message)
    {
        var result = await Kernel.SubmitAsync(code);
        output.WriteLine(result.ToString());
        Assert.NotNull(result.Failure);
        Assert.Contains(message, result.Failure!.Message);
        Assert.DoesNotContain("   at ", result.Failure.Message);
        var runs = await Kernel.SubmitAsync("#!actscale runs");
        Assert.True(runs.Succeeded);
        Assert.Contains("<b>activscalar</b>", runs.AllHtml);
    }

    [Fact]
    public Task Help_lists_every_subcommand_and_option_help_works() => AssertDisplays("#!actscale train --help", "--lambda-m", "--lr");

    [Fact]
    public async Task Completions_offer_methods_and_run_names()
    {
        async Task<string[]> Complete(string code)
        {
            var result = await Kernel.Kernel.SendAsync(new Microsoft.DotNet.Interactive.Commands.RequestCompletions(code, new Microsoft.DotNet.Interactive.LinePosition(0, code.Length)));
            return result.Events.OfType<Microsoft.DotNet.Interactive.Events.CompletionsProduced>().SelectMany(c => c.Completions).Select(c => c.DisplayText).ToArray();
        }
        Assert.Contains("dynscalar", await Complete("#!actscale train --method "));
        Assert.Contains("steervec", await Complete("#!actscale heatmap --run "));
        Assert.Contains("train", await Complete("#!actscale "));
    }

    [Fact]
    public async Task Second_train_while_one_runs_is_refused()
    {
        var session = NotebookSession.For(Kernel.Kernel);
        using (session.BeginTraining("test"))
        {
            var result = await Kernel.SubmitAsync("#!actscale train --steps 1");
            Assert.NotNull(result.Failure);
            Assert.Contains("already running", result.Failure!.Message);
        }
    }
}

/// <summary>Interrupting a training keeps the run with its best parameters; uses its own kernel so other tests are not disturbed.</summary>
public sealed class TrainingInterruptTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Interrupt_keeps_the_run_with_its_best_parameters()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var kernel = new NotebookKernel();
        NotebookSession.For(kernel.Kernel).LiveUpdates = LiveUpdates.Always;
        Assert.True((await kernel.SubmitAsync($"#!actscale load --model \"{folder.Path}\" --device cpu")).Succeeded);
        Assert.True((await kernel.SubmitAsync("#!actscale data --task ccc --train 8 --test 4")).Succeeded);

        var progressed = new TaskCompletionSource();
        using var watch = kernel.Kernel.KernelEvents.Subscribe(e =>
        {
            if (e is Microsoft.DotNet.Interactive.Events.DisplayedValueUpdated) progressed.TrySetResult();
        });
        var training = kernel.SubmitAsync("#!actscale train --steps 100000 --name long");
        await Task.WhenAny(progressed.Task, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(progressed.Task.IsCompleted, "training never reported progress");
        await kernel.Kernel.SendAsync(new Microsoft.DotNet.Interactive.Commands.Cancel());
        var result = await training.WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine(result.ToString());

        // The kernel reports the cancellation at once; the training thread finishes its step and keeps the run.
        var session = NotebookSession.For(kernel.Kernel);
        for (int i = 0; i < 300 && session.IsTraining; i++) await Task.Delay(100);
        Assert.False(session.IsTraining);
        Assert.Contains("long", session.RunNames);
        var runs = await kernel.SubmitAsync("#!actscale runs");
        Assert.True(runs.Succeeded, runs.ToString());
        Assert.Contains("(interrupted)", runs.AllHtml);
        // The interrupted run was evaluated, and can be compared and saved like any other.
        var compare = await kernel.SubmitAsync("#!actscale compare long");
        Assert.True(compare.Succeeded, compare.ToString());
        Assert.Contains("actscale-comparison", compare.AllHtml);
        var saved = Path.Combine(folder.Path, "long.json");
        var save = await kernel.SubmitAsync($"#!actscale save long --path \"{saved}\"");
        Assert.True(save.Succeeded, save.ToString());
        using (var reloaded = ActScale.Persistence.RunStore.Load(saved, session.Model!))
            Assert.True(reloaded.Cancelled);
        // A new training can start after the interrupted one.
        var next = await kernel.SubmitAsync("#!actscale train --steps 2 --name after");
        Assert.True(next.Succeeded, next.ToString());
    }
}
