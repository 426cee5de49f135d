using ActScale.Notebook;
using ActScale.Tests.Support;

namespace ActScale.Tests.Notebook;

/// <summary>
/// The generation and localisation magics in a real kernel on a tiny random GPT-2 with CCC prompts and an ActivScalar
/// and a DynScalar run trained for a few steps.
/// </summary>
public sealed class LocalizeMagicTests(LocalizeMagicTests.Session session) : IClassFixture<LocalizeMagicTests.Session>
{
    public sealed class Session : IAsyncLifetime
    {
        private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();
        public NotebookKernel Kernel { get; } = new();

        public async Task InitializeAsync()
        {
            TinyCheckpoints.WriteGpt2(_folder.Path);
            foreach (var code in new[]
                     {
                         $"#!actscale load --model \"{_folder.Path}\" --device cpu",
                         "#!actscale data --task ccc --train 8 --test 4 --seed 1",
                         "#!actscale train --method activscalar --steps 3 --lr 0.05 --name scalars",
                         "#!actscale train --method dynscalar --steps 3 --lr 0.05 --name dyn",
                     })
            {
                var result = await Kernel.SubmitAsync(code);
                if (!result.Succeeded) throw new InvalidOperationException($"{code}\n{result}");
            }
        }

        public Task DisposeAsync()
        {
            Kernel.Dispose();
            _folder.Dispose();
            return Task.CompletedTask;
        }
    }

    private NotebookKernel Kernel => session.Kernel;

    private async Task<NotebookKernel.Result> Succeed(string code)
    {
        var result = await Kernel.SubmitAsync(code);
        Assert.True(result.Succeeded, result.ToString());
        return result;
    }

    private async Task<string> Fail(string code)
    {
        var result = await Kernel.SubmitAsync(code);
        Assert.False(result.Succeeded, $"expected '{code}' to fail:\n{result}");
        return result.Failure?.Message ?? result.ToString();
    }

    [Fact]
    public async Task GenerateShowsTheCleanRowAndEachBetaWithTheTaskAnswersProbabilities()
    {
        var html = (await Succeed("#!actscale generate scalars --beta -2,1 --max-tokens 3")).AllHtml;
        Assert.Contains("actscale-generate", html);
        Assert.Contains("<td>0 (clean)</td>", html);
        Assert.Contains("<td>−2</td>", html);
        Assert.Contains("<td>+1</td>", html);
        Assert.Contains("p(correct) <code>", html);   // the default prompt is a task prompt, so its answers are known
        Assert.Matches(@"<td>\d+\.\d%</td>", html);
    }

    [Fact]
    public async Task GenerateWithDynScalarTakesAnyPromptAndSamples()
    {
        var html = (await Succeed("#!actscale generate dyn --prompt \"The capital of France is\" --max-tokens 4 --temperature 0.8 --top-k 20 --top-p 0.9 --seed 3 --correct Paris --wrong Rome")).AllHtml;
        Assert.Contains("p(correct) <code> Paris</code>", html);
        Assert.Contains("The capital of France is", html);
    }

    [Fact]
    public async Task GenerateRefusesAPositionalRunOnAPromptOfAnotherLength()
    {
        var message = await Fail("#!actscale generate scalars --prompt \"Hello\"");
        Assert.Contains("training length", message);
    }

    [Fact]
    public async Task GenerateNamesAMissingRun()
    {
        var message = await Fail("#!actscale generate nosuchrun --prompt \"Hello\"");
        Assert.Contains("nosuchrun", message);
    }

    [Fact]
    public async Task GenerateHelpListsItsOptions()
    {
        var html = (await Succeed("#!actscale generate --help")).AllHtml;
        foreach (var option in new[] { "--prompt", "--beta", "--max-tokens", "--temperature", "--seed" }) Assert.Contains(option, html);
    }

    [Fact]
    public async Task BetaPlotsFourCurvesWithTheCleanPointMarked()
    {
        var html = (await Succeed("#!actscale beta scalars --values -1:1:1")).AllHtml;
        Assert.Equal(4, html.Split("class=\"actscale-plot\"").Length - 1);
        foreach (var title in new[] { "mean logit difference", "answer probabilities", "KL to the clean model", "both-β success" }) Assert.Contains(title, html);
        Assert.Contains("β = 0 (clean model)", html);
    }

    [Fact]
    public async Task BetaRefusesAnUnknownSplitAndABadRange()
    {
        Assert.Contains("no split 'valid'", await Fail("#!actscale beta scalars --split valid"));
        Assert.Contains("positive step", await Fail("#!actscale beta scalars --values 1:2:-1"));
    }

    [Theory]
    [InlineData("scalars")]
    [InlineData("dyn")]
    public async Task LocalizePlotsRetentionAndReportsTheSmallestKKeeping90Percent(string run)
    {
        var html = (await Succeed($"#!actscale localize {run} --k 1,2")).AllHtml;
        Assert.Equal(3, html.Split("class=\"actscale-plot\"").Length - 1);
        Assert.Matches(@"train: (the \d+ largest of \d+ sites keep|no k tried keeps)", html);
        Assert.Contains("test:", html);
    }

    [Fact]
    public async Task LocalizeRefusesAFractionalK() =>
        Assert.Contains("whole numbers", await Fail("#!actscale localize scalars --k 1.5"));

    [Fact]
    public async Task PatchDrawsAMapAndCompareMapsPutsItBesideTheScalars()
    {
        var patch = (await Succeed("#!actscale patch --sites attn_out,mlp_out --prompts 4 --name p1")).AllHtml;
        Assert.Contains("\"type\":\"heatmap\"", patch);
        Assert.Contains("share of LD recovered", patch);
        await Succeed("#!actscale patch --direction attribution --prompts 4 --name grad");
        var html = (await Succeed("#!actscale compare-maps scalars --patch p1")).AllHtml;
        Assert.Matches(@"Spearman rank correlation .* over \d+ sites: <b>-?\d\.\d{3}</b>; top 5: \d shared", html);
        Assert.Equal(2, html.Split("class=\"actscale-plot\"").Length - 1);
    }

    [Fact]
    public async Task CompareMapsNamesAMissingMapAndRefusesDynScalar()
    {
        await Succeed("#!actscale patch --prompts 2 --name p2");
        Assert.Contains("No patching map named 'nomap'", await Fail("#!actscale compare-maps scalars --patch nomap"));
        Assert.Contains("no positions", await Fail("#!actscale compare-maps dyn --patch p2"));
    }

    [Fact]
    public async Task PatchSaysWhatIsMissingWhenThePromptsHaveNoCorruptedTwins()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        var tasks = Path.Combine(folder.Path, "plain.jsonl");
        ActScale.Tasks.TaskFile.Write(tasks, TinyModelFixture.SameLengthTask());
        using var kernel = new NotebookKernel();
        foreach (var code in new[] { $"#!actscale load --model \"{folder.Path}\" --device cpu", $"#!actscale data --task \"{tasks}\"" })
            Assert.True((await kernel.SubmitAsync(code)).Succeeded, code);
        var result = await kernel.SubmitAsync("#!actscale patch");
        Assert.False(result.Succeeded);
        Assert.Contains("\"corrupt\" field", result.Failure!.Message);
    }

    [Fact]
    public async Task PatchingHeadsDrawsLayerByHeadAndNamesTheTopHeads()
    {
        var html = (await Succeed("#!actscale patch --sites attn_head --prompts 4 --name heads")).AllHtml;
        Assert.Contains("per head", html);
        Assert.Matches(@"Heads that matter most: L\d\.H\d", html);
        Assert.Contains("give it alone", await Fail("#!actscale patch --sites attn_head,attn_out"));
    }
}
