using System.Runtime.InteropServices;
using ActScale.Notebook;
using ActScale.Tests.Support;
using Xunit.Abstractions;

namespace ActScale.Tests.Notebook;

/// <summary>
/// Device and data failures inside a notebook: the command fails with a message (never a stack trace), the kernel
/// keeps working and earlier runs stay usable. Uses its own kernel because it injects a failure into training.
/// </summary>
public sealed class NotebookFailureTests(ITestOutputHelper output)
{
    internal static void AssertCleanFailure(NotebookKernel.Result result, string message)
    {
        Assert.NotNull(result.Failure);
        Assert.Contains(message, result.Failure!.Message);
        Assert.DoesNotContain("   at ", result.Failure.Message);
    }

    [Fact]
    public async Task Out_of_memory_fails_the_command_suggests_a_smaller_batch_and_keeps_earlier_runs()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var kernel = new NotebookKernel();
        var session = NotebookSession.For(kernel.Kernel);
        Assert.True((await kernel.SubmitAsync($"#!actscale load --model \"{folder.Path}\" --device cpu")).Succeeded);
        Assert.True((await kernel.SubmitAsync("#!actscale data --task ccc --train 8 --test 4")).Succeeded);
        var first = await kernel.SubmitAsync("#!actscale train --steps 2 --batch 4 --name first");
        Assert.True(first.Succeeded, first.ToString());

        session.StepProbe = p => { if (p.Step >= 2) throw new ExternalException("CUDA out of memory. Tried to allocate 4.00 GiB (GPU 0; 79.11 GiB total capacity)"); };
        NotebookKernel.Result big;
        try
        {
            big = await kernel.SubmitAsync("#!actscale train --steps 20 --batch 8 --name big");
        }
        finally
        {
            session.StepProbe = null;
        }
        output.WriteLine(big.ToString());
        AssertCleanFailure(big, "ran out of memory on cpu with batches of 8 prompts");
        Assert.Contains("--batch 4", big.Failure!.Message);
        Assert.Contains("earlier runs are still here", big.Failure.Message);

        Assert.False(session.IsTraining);
        Assert.DoesNotContain("big", session.RunNames);
        var runs = await kernel.SubmitAsync("#!actscale runs");
        Assert.Contains("<b>first</b>", runs.AllHtml);
        Assert.True((await kernel.SubmitAsync("#!actscale heatmap first")).Succeeded);
        var save = await kernel.SubmitAsync($"#!actscale save first --path \"{Path.Combine(folder.Path, "first.json")}\"");
        Assert.True(save.Succeeded, save.ToString());
        var again = await kernel.SubmitAsync("#!actscale train --steps 2 --batch 4 --name again");
        Assert.True(again.Succeeded, again.ToString());
    }

    [Fact]
    public async Task Bad_task_files_fail_the_data_command_with_the_file_and_line()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var kernel = new NotebookKernel();
        Assert.True((await kernel.SubmitAsync($"#!actscale load --model \"{folder.Path}\" --device cpu")).Succeeded);
        var empty = Path.Combine(folder.Path, "empty.jsonl");
        File.WriteAllText(empty, "");
        AssertCleanFailure(await kernel.SubmitAsync($"#!actscale data --task \"{empty}\""), "#!actscale data: Task file");
        var broken = Path.Combine(folder.Path, "broken.jsonl");
        File.WriteAllText(broken, "{\"prompt\": \"The capital of France is\", \"correct\": \" Paris\", \"wrong\": \" Rome\", \"split\": \"train\"}\n{\"prompt\": \"oops\"\n");
        AssertCleanFailure(await kernel.SubmitAsync($"#!actscale data --task \"{broken}\""), "#!actscale data: Line 2 of");
        // The kernel still answers.
        Assert.True((await kernel.SubmitAsync("#!actscale data --task ccc --train 4 --test 2")).Succeeded);
    }

    [Fact]
    public async Task A_failed_load_names_the_problem_and_keeps_the_previous_model_and_runs()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var good = Path.Combine(folder.Path, "good");
        TinyCheckpoints.WriteGpt2(good);
        using var kernel = new NotebookKernel();
        var session = NotebookSession.For(kernel.Kernel);
        Assert.True((await kernel.SubmitAsync($"#!actscale load --model \"{good}\" --device cpu")).Succeeded);
        Assert.True((await kernel.SubmitAsync("#!actscale data --task ccc --train 4 --test 2")).Succeeded);
        Assert.True((await kernel.SubmitAsync("#!actscale train --steps 2 --name keep")).Succeeded);
        var model = session.Model;

        var missing = Path.Combine(folder.Path, "no-such-model");
        AssertCleanFailure(await kernel.SubmitAsync($"#!actscale load --model \"{missing}\" --device cpu"), missing);

        var noWeights = Directory.CreateDirectory(Path.Combine(folder.Path, "no-weights")).FullName;
        foreach (var file in Directory.GetFiles(good).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(noWeights, Path.GetFileName(file)));
        AssertCleanFailure(await kernel.SubmitAsync($"#!actscale load --model \"{noWeights}\" --device cpu"), "No weights in");

        // A pytorch_model.bin whose pickle would run posix.system("touch pwned") is refused before unpickling.
        var hostile = Directory.CreateDirectory(Path.Combine(folder.Path, "hostile")).FullName;
        foreach (var file in Directory.GetFiles(good).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(hostile, Path.GetFileName(file)));
        using (var zip = System.IO.Compression.ZipFile.Open(Path.Combine(hostile, "pytorch_model.bin"), System.IO.Compression.ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("archive/data.pkl").Open())
            entry.Write([0x80, 0x02, .. "cposix\nsystem\n"u8, (byte)'X', 11, 0, 0, 0, .. "touch pwned"u8, 0x85, (byte)'R', (byte)'.']);
        var refused = await kernel.SubmitAsync($"#!actscale load --model \"{hostile}\" --device cpu");
        output.WriteLine(refused.ToString());
        AssertCleanFailure(refused, "posix.system");
        Assert.Contains("refusing to load it", refused.Failure!.Message);
        Assert.False(File.Exists(Path.Combine(hostile, "pwned")));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "pwned")));

        if (!ActScale.Runtime.ComputeDevice.CudaAvailable())
            AssertCleanFailure(await kernel.SubmitAsync($"#!actscale load --model \"{good}\" --device cuda"), "TorchSharp-cuda-linux");

        // Nothing was lost: the same model is loaded, the run is there and still applies.
        Assert.Same(model, session.Model);
        Assert.True((await kernel.SubmitAsync("#!actscale predict --prompt \"The capital of France is\"")).Succeeded);
        Assert.Contains("<b>keep</b>", (await kernel.SubmitAsync("#!actscale runs")).AllHtml);
        var apply = await kernel.SubmitAsync("#!actscale apply keep");
        Assert.True(apply.Succeeded, apply.ToString());
    }
}
