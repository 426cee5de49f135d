using System.Text.Json;
using ActScale.Notebook;
using ActScale.Persistence;
using ActScale.Tests.Support;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;
using Xunit.Abstractions;

namespace ActScale.Tests.Notebook;

/// <summary>
/// An interrupt followed at once by a command that replaces or reads what the training uses, in a real kernel, with
/// steps long enough that the interrupt lands mid-step. The command must wait for the interrupted training to keep
/// its run, and must not dispose the model or the prompts under it.
/// </summary>
public sealed class InterruptRaceTests(ITestOutputHelper output)
{
    /// <summary>Each follow-up is tried this many times: bounded, and enough to have caught the former races (lost 2 of 2 runs after data).</summary>
    private const int Tries = 2;

    [Theory]
    [InlineData("load")]
    [InlineData("data")]
    [InlineData("save")]
    public async Task A_command_right_after_an_interrupt_finds_the_interrupted_run_kept(string next)
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        var taskFile = Path.Combine(folder.Path, "many.jsonl");
        WriteTask(taskFile, trainCount: 300);
        using var kernel = new NotebookKernel();
        var session = NotebookSession.For(kernel.Kernel);
        session.LiveUpdates = LiveUpdates.Always;
        var load = $"#!actscale load --model \"{folder.Path}\" --device cpu";
        var data = $"#!actscale data --task \"{taskFile}\" --train 300 --test 2";
        await Succeed(kernel, load);
        await Succeed(kernel, data);

        for (int i = 0; i < Tries; i++)
        {
            var name = $"long{i}";
            var progressed = new TaskCompletionSource();
            using (kernel.Kernel.KernelEvents.Subscribe(e => { if (e is DisplayedValueUpdated) progressed.TrySetResult(); }))
            {
                var training = kernel.SubmitAsync($"#!actscale train --steps 100000 --batch 32 --name {name}");
                await progressed.Task.WaitAsync(TimeSpan.FromSeconds(120));
                await kernel.Kernel.SendAsync(new Cancel());
                var saved = Path.Combine(folder.Path, $"{name}.json");
                var follow = next switch
                {
                    "load" => load,
                    "data" => data,
                    _ => $"#!actscale save {name} --path \"{saved}\"",
                };
                var result = await kernel.SubmitAsync(follow).WaitAsync(TimeSpan.FromSeconds(120));
                output.WriteLine($"{name}: {follow}\n{result}");
                Assert.True(result.Succeeded, result.ToString());
                await training.WaitAsync(TimeSpan.FromSeconds(120));

                Assert.False(session.IsTraining);
                Assert.Contains(name, session.RunNames);
                if (next == "save")
                {
                    using var reloaded = RunStore.Load(saved, session.Model!);
                    Assert.True(reloaded.Cancelled);
                }
            }
        }
        // The session still works: the kept runs compare, and a new training runs on what the follow-ups left.
        await Succeed(kernel, "#!actscale compare long0");
        await Succeed(kernel, "#!actscale train --steps 1 --batch 8 --name after");
    }

    [Fact]
    public async Task Load_and_data_during_a_training_that_was_not_interrupted_are_refused()
    {
        using var kernel = new NotebookKernel();
        var session = NotebookSession.For(kernel.Kernel);
        using (session.BeginTraining("test"))
        {
            foreach (var command in new[] { "#!actscale load", "#!actscale data --task ccc" })
            {
                var result = await kernel.SubmitAsync(command);
                Assert.NotNull(result.Failure);
                Assert.Contains("would replace the model or prompts it uses", result.Failure!.Message);
            }
        }
    }

    private static async Task Succeed(NotebookKernel kernel, string code)
    {
        var result = await kernel.SubmitAsync(code);
        Assert.True(result.Succeeded, $"{code}\n{result}");
    }

    /// <summary>A task file of one prompt length: the tiny fixture's prompts repeated with distinct names for train.</summary>
    private static void WriteTask(string path, int trainCount)
    {
        var baseTask = TinyModelFixture.SameLengthTask();
        var lines = Enumerable.Range(0, trainCount).Select(i => baseTask[i % 6] with { Split = "train" })
            .Concat(baseTask.Where(e => e.Split == "test"))
            .Select(e => JsonSerializer.Serialize(new { prompt = e.Prompt, correct = e.Correct, wrong = e.Wrong, split = e.Split }));
        File.WriteAllLines(path, lines);
    }
}
