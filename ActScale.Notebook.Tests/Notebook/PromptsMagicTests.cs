using System.Text.RegularExpressions;
using ActScale.Notebook;
using ActScale.Tests.Support;
using Microsoft.DotNet.Interactive.Events;
using Xunit.Abstractions;

namespace ActScale.Tests.Notebook;

/// <summary>
/// <c>#!actscale prompts</c> in a real kernel on a tiny random GPT-2 with CCC prompts and a short ActivScalar run that
/// steers some training prompts and not others: the table lists them worst first, --failed keeps only the failures, and
/// the C# variable holds every prompt whatever the table hides.
/// </summary>
public sealed class PromptsMagicTests(ITestOutputHelper output, PromptsMagicTests.Session session) : IClassFixture<PromptsMagicTests.Session>
{
    public sealed class Session : IAsyncLifetime
    {
        private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();
        public NotebookKernel Kernel { get; } = new();
        public string ModelFolder => _folder.Path;

        public async Task InitializeAsync()
        {
            TinyCheckpoints.WriteGpt2(_folder.Path);
            foreach (var code in new[]
                     {
                         $"#!actscale load --model \"{_folder.Path}\" --device cpu",
                         "#!actscale data --task ccc --train 16 --test 4 --seed 1",
                         "#!actscale train --method activscalar --steps 6 --lr 0.05 --name scalars",
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

    private async Task<string> Succeed(string code)
    {
        var result = await Kernel.SubmitAsync(code);
        output.WriteLine(result.ToString());
        Assert.True(result.Succeeded, result.ToString());
        return result.AllHtml;
    }

    private async Task<object> Evaluate(string csharp)
    {
        var result = await Kernel.SubmitAsync(csharp);
        Assert.True(result.Succeeded, result.ToString());
        return result.Events.OfType<ReturnValueProduced>().Single().Value;
    }

    /// <summary>The table's body rows, each as its cells' text.</summary>
    private static string[][] Rows(string html) =>
        Regex.Matches(html, "<tr><td>(.*?)</tr>").Select(m => Regex.Matches(m.Groups[0].Value, "<td[^>]*>(.*?)</td>")
            .Select(c => Regex.Replace(c.Groups[1].Value, "<[^>]+>", "")).ToArray()).ToArray();

    [Fact]
    public async Task The_table_lists_every_prompt_of_the_split_worst_first_and_the_variable_holds_them()
    {
        var rows = Rows(await Succeed("#!actscale prompts scalars --split train"));

        Assert.Equal(16, rows.Length);
        Assert.All(rows, r => Assert.Equal("train", r[0]));
        Assert.Equal(16, rows.Select(r => r[1]).Distinct().Count());
        // Worst first: the failures (✗) come before every success (✓).
        var marks = rows.Select(r => r[^1]).ToArray();
        Assert.Equal(marks.OrderBy(m => m == "✓"), marks);
        Assert.Equal(16, await Evaluate("promptResults.RowCount"));
    }

    [Fact]
    public async Task Failed_keeps_only_the_prompts_that_fail_at_either_beta()
    {
        var all = Rows(await Succeed("#!actscale prompts scalars --split train"));
        int failures = all.Count(r => r[^1] == "✗");
        Assert.InRange(failures, 1, all.Length - 1);   // a mix, or the filter could not be seen

        var failed = Rows(await Succeed("#!actscale prompts scalars --split train --failed"));
        Assert.Equal(failures, failed.Length);
        Assert.All(failed, r => Assert.Equal("✗", r[^1]));
        Assert.Equal(all.Take(failures).Select(r => r[1]), failed.Select(r => r[1]));
        // The variable still holds every prompt, and agrees with the table on which fail.
        Assert.Equal(failures, await Evaluate("promptResults.GetColumn<bool>(\"BothBetaSuccess\").Values.Count(v => !v)"));
    }

    [Fact]
    public async Task Top_limits_the_rows_and_the_default_split_is_test()
    {
        var top = Rows(await Succeed("#!actscale prompts --top 3 --split train"));
        Assert.Equal(3, top.Length);
        var test = Rows(await Succeed("#!actscale prompts scalars"));
        Assert.Equal(4, test.Length);
        Assert.All(test, r => Assert.Equal("test", r[0]));
    }

    [Theory]
    [InlineData("#!actscale prompts nope", "There is no run named 'nope'")]
    [InlineData("#!actscale prompts scalars --split dev", "The prompts have no split 'dev'; they have train, test")]
    [InlineData("#!actscale prompts scalars --top 0", "--top must be between 1 and 100000; got 0")]
    [InlineData("#!actscale prompts scalars --split", "--split needs a value")]
    public async Task Mistakes_fail_with_a_message(string code, string message)
    {
        var result = await Kernel.SubmitAsync(code);
        output.WriteLine(result.ToString());
        Assert.NotNull(result.Failure);
        Assert.Contains(message, result.Failure!.Message);
        Assert.DoesNotContain("   at ", result.Failure.Message);
    }

    [Fact]
    public async Task Without_a_model_or_a_run_it_says_what_to_run_first()
    {
        using var fresh = new NotebookKernel();
        Assert.Contains("No model is loaded", (await fresh.SubmitAsync("#!actscale prompts")).Failure?.Message);
        Assert.True((await fresh.SubmitAsync($"#!actscale load --model \"{session.ModelFolder}\" --device cpu")).Succeeded);
        Assert.Contains("No run has been trained yet", (await fresh.SubmitAsync("#!actscale prompts --failed")).Failure?.Message);
    }
}
