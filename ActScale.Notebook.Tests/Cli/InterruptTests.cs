using System.Diagnostics;
using ActScale.Cli;
using ActScale.Persistence;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Cli;

/// <summary>SIGTERM (what Slurm sends a cancelled task) ends training with the best parameters saved, marked unfinished.</summary>
public sealed class InterruptTests
{
    [Fact]
    public async Task Sigterm_saves_the_best_parameters_and_leaves_the_run_unfinished()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var model = Path.Combine(folder.Path, "model");
        TinyCheckpoints.WriteGpt2(model);
        var output = Path.Combine(folder.Path, "run");
        var tool = Path.Combine(Path.GetDirectoryName(typeof(CommandLine).Assembly.Location)!, "actscale.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var word in new[] { tool, "train", "--model", model, "--device", "cpu", "--train", "8", "--test", "4", "--batch", "4", "--steps", "1000000", "--out", output })
            start.ArgumentList.Add(word);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var log = new List<string>();
        while (await process.StandardError.ReadLineAsync() is { } line)
        {
            log.Add(line);
            if (line.Contains("step 20/1000000")) break;
        }
        Assert.False(process.HasExited, string.Join("\n", log));
        Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        log.AddRange((await process.StandardError.ReadToEndAsync()).Split('\n'));
        Assert.True(process.WaitForExit(60_000), "the tool did not stop within 60 s of SIGTERM");
        await stdout;

        Assert.Equal(143, process.ExitCode);
        // Not a terminal: one plain line per report, no carriage returns redrawing a bar.
        Assert.Contains(log, l => l.StartsWith("activscalar: step 10/1000000", StringComparison.Ordinal));
        Assert.DoesNotContain(log, l => l.Contains('\r'));
        Assert.Contains(log, l => l.Contains("interrupted after") && l.Contains("saved the best parameters seen"));
        var result = RunFolder.ReadResult(output);
        Assert.NotNull(result);
        Assert.False(result!.Complete);
        Assert.InRange(result.StepsCompleted, 20, 999_999);
        using var loaded = ActScale.Model.LanguageModel.Load(model, "cpu");
        using var run = ActScale.Persistence.RunStore.Load(RunFolder.RunPath(output), loaded);
        Assert.True(run.Cancelled);
    }

    [Fact]
    public void On_a_terminal_progress_is_one_bar_redrawn_in_place()
    {
        var text = new StringWriter();
        var bar = new ConsoleProgress("run", text, terminal: true);
        bar.Report(new TrainingProgress(5, 10, 1, 1, 0, 0, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        bar.Report(new TrainingProgress(10, 10, 1, 1, 0, 0, TimeSpan.FromSeconds(2), TimeSpan.Zero));
        var written = text.ToString();
        Assert.StartsWith("\rrun [###############...............] step 5/10", written);
        Assert.Contains("\rrun [##############################] step 10/10", written);
        Assert.Single(written.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
