using ActScale.Cli;
using ActScale.Persistence;
using ActScale.Tests.Notebook;
using ActScale.Tests.Support;

namespace ActScale.Tests.Cli;

/// <summary>A two-setting sweep on a tiny random GPT-2, trained setting by setting as Slurm array tasks would.</summary>
public sealed class SweepTests : IDisposable
{
    private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();
    private readonly string _model;
    private readonly string _dir;

    public SweepTests()
    {
        _model = Path.Combine(_folder.Path, "model");
        TinyCheckpoints.WriteGpt2(_model);
        _dir = Path.Combine(_folder.Path, "sweep");
        var grid = Path.Combine(_folder.Path, "grid.json");
        File.WriteAllText(grid, $$"""{"model": "{{_model}}", "device": "cpu", "train": 8, "test": 4, "steps": 3, "batch": 4, "lambda-m": [0.001, 0.1]}""");
        Assert.Equal(0, Sweep("plan", grid, "--out", _dir));
    }

    private static int Sweep(params string[] words)
    {
        using var interrupt = new Interrupt();
        return SweepCommands.Run(words, interrupt);
    }

    [Fact]
    public void Merge_lists_missing_settings_and_a_rerun_skips_finished_ones_and_redoes_half_written_ones()
    {
        Assert.Equal(0, Sweep("run", _dir, "--index", "0"));
        var first = File.GetLastWriteTimeUtc(RunFolder.ResultPath(SweepFolder.SettingFolder(_dir, 0)));

        var merged = SweepMerge.Collect(_dir);
        Assert.Equal("not started", Assert.Single(merged.Missing).Reason);
        Assert.Equal(3, Sweep("merge", _dir));
        Assert.Equal(1 + 6, File.ReadAllLines(Path.Combine(_dir, SweepMerge.CsvFile)).Length);

        // A task killed while writing leaves a run without metrics: listed as unfinished, then trained from scratch.
        var half = SweepFolder.SettingFolder(_dir, 1);
        Directory.CreateDirectory(half);
        File.WriteAllText(RunFolder.RunPath(half), "{ truncated");
        Assert.Equal("started but not finished (killed, or still running)", Assert.Single(SweepMerge.Collect(_dir).Missing).Reason);

        Assert.Equal(0, Sweep("run", _dir, "--all"));
        Assert.Equal(first, File.GetLastWriteTimeUtc(RunFolder.ResultPath(SweepFolder.SettingFolder(_dir, 0))));
        Assert.True(SweepFolder.IsComplete(_dir, 1));
        Assert.Equal(0, Sweep("merge", _dir));
        var csv = File.ReadAllLines(Path.Combine(_dir, SweepMerge.CsvFile));
        Assert.Equal(1 + 12, csv.Length);
        Assert.Equal(["0", "1"], csv.Skip(1).Select(l => l.Split(',')[0]).Distinct());
    }

    [Fact]
    public void The_slurm_script_runs_one_array_task_per_setting()
    {
        Assert.Equal(0, Sweep("slurm", _dir, "--cpus", "2", "--partition", "short", "--actscale", "actscale"));
        var script = File.ReadAllText(Path.Combine(_dir, SlurmScript.FileName));
        Assert.Contains("#SBATCH --array=0-1\n", script);
        Assert.Contains("#SBATCH --cpus-per-task=2\n", script);
        Assert.Contains("#SBATCH --partition=short\n", script);
        Assert.DoesNotContain("--gpus", script);
        Assert.Contains($"exec actscale sweep run '{Path.GetFullPath(_dir)}' --index \"$SLURM_ARRAY_TASK_ID\"", script);
    }

    [Fact]
    public async Task Sweep_load_adds_the_finished_runs_and_lists_the_missing_setting()
    {
        Assert.Equal(0, Sweep("run", _dir, "--index", "1"));
        using var kernel = new NotebookKernel();
        Assert.True((await kernel.SubmitAsync($"#!actscale load --model \"{_model}\" --device cpu")).Succeeded);
        var loaded = await kernel.SubmitAsync($"#!actscale sweep-load \"{_dir}\"");
        Assert.True(loaded.Succeeded, loaded.ToString());
        Assert.Contains("1 of 2 settings loaded", loaded.AllHtml);
        Assert.Contains("setting 0 (s0000_lambda-m=0.001) has not finished", loaded.AllHtml);
        Assert.Contains("effectiveness vs minimality", loaded.AllHtml);
        var runs = await kernel.SubmitAsync("#!actscale runs");
        Assert.Contains("<b>s0001_lambda-m=0.1</b>", runs.AllHtml);
        Assert.True((await kernel.SubmitAsync("#!actscale heatmap s0001_lambda-m=0.1")).Succeeded);
    }

    public void Dispose() => _folder.Dispose();
}
