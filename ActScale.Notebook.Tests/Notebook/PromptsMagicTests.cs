using System.Text.RegularExpressions;
using ActScale.Notebook;
using ActScale.Tests.Support;
using Microsoft.DotNet.Interactive.Events;
using Xunit.Abstractions;

namespace ActScale.Tests.Notebook;

/// <summary>
/// <c>#!actscale prompts</c> in the localisation tests' kernel (a tiny random GPT-2, 8 train and 4 test CCC prompts, a
/// short ActivScalar run "scalars" that steers some training prompts and not others): the table lists them worst first,
/// --failed keeps only the failures, and the C# variable holds every prompt whatever the table hides.
/// </summary>
public sealed class PromptsMagicTests(ITestOutputHelper output, LocalizeMagicTests.Session session) : IClassFixture<LocalizeMagicTests.Session>
{
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

        Assert.Equal(8, rows.Length);
        Assert.All(rows, r => Assert.Equal("train", r[0]));
        Assert.Equal(8, rows.Select(r => r[1]).Distinct().Count());
        // Worst first: the failures (✗) come before every success (✓).
        var marks = rows.Select(r => r[^1]).ToArray();
        Assert.Equal(marks.OrderBy(m => m == "✓"), marks);
        Assert.Equal(8, await Evaluate("promptResults.RowCount"));
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

    [Fact]
    public async Task Mistakes_fail_with_a_message()
    {
        foreach (var (code, message) in new[]
                 {
                     ("#!actscale prompts nope", "There is no run named 'nope'"),
                     ("#!actscale prompts scalars --split dev", "The prompts have no split 'dev'; they have train, test"),
                     ("#!actscale prompts scalars --top 0", "--top must be between 1 and 100000; got 0"),
                     // --failed takes no value, but an option that does still needs one.
                     ("#!actscale prompts scalars --failed --split", "--split needs a value"),
                 })
        {
            var result = await Kernel.SubmitAsync(code);
            output.WriteLine(result.ToString());
            NotebookFailureTests.AssertCleanFailure(result, message);
        }
    }

    [Fact]
    public async Task Without_a_model_or_a_run_it_says_what_to_run_first()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var fresh = new NotebookKernel();
        NotebookFailureTests.AssertCleanFailure(await fresh.SubmitAsync("#!actscale prompts"), "No model is loaded");
        Assert.True((await fresh.SubmitAsync($"#!actscale load --model \"{folder.Path}\" --device cpu")).Succeeded);
        NotebookFailureTests.AssertCleanFailure(await fresh.SubmitAsync("#!actscale prompts --failed"), "No run has been trained yet");
    }
}
