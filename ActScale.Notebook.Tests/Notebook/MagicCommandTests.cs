using ActScale.Tests.Support;
using Xunit.Abstractions;

namespace ActScale.Tests.Notebook;

public sealed class MagicCommandTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Load_then_predict_shows_a_table_of_next_tokens()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var kernel = new NotebookKernel();
        var load = await kernel.SubmitAsync($"#!actscale load --model \"{folder.Path}\" --device cpu");
        output.WriteLine(load.ToString());
        Assert.True(load.Succeeded, load.ToString());
        var predict = await kernel.SubmitAsync("#!actscale predict --prompt \"The capital of France is\" --top 3");
        output.WriteLine(predict.ToString());
        Assert.True(predict.Succeeded, predict.ToString());
        Assert.Contains("actscale-predictions", predict.AllHtml);
    }

    [Fact]
    public async Task Bad_options_fail_with_a_message()
    {
        using var kernel = new NotebookKernel();
        foreach (var code in new[] { "#!actscale train --lr abc", "#!actscale load --bogus 1", "#!actscale heatmap nope", "#!actscale train --steps 10 --lr 0.1", "#!actscale\n1+1", "#!actscale compare a b c" })
        {
            var r = await kernel.SubmitAsync(code);
            output.WriteLine("=== " + code + "\n" + r);
        }
    }
}
