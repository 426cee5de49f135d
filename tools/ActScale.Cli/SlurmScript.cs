using System.Text;

namespace ActScale.Cli;

/// <summary>
/// The sbatch script of a sweep: a job array with one task per setting, each task running
/// <c>actscale sweep run DIR --index $SLURM_ARRAY_TASK_ID</c>. It assumes the sweep folder and the tool are reachable
/// at the same paths on every node (a shared file system).
/// </summary>
internal sealed record SlurmScript(string Dir, int Settings, string? Partition, string? Time, int Cpus, int Gpus, string Command)
{
    public const string FileName = "sweep.sbatch";

    /// <summary>How this process was started: the apphost (an installed tool) or <c>dotnet actscale.dll</c>.</summary>
    public static string CurrentCommand()
    {
        var process = Environment.ProcessPath ?? "actscale";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? $"{Quote(process)} {Quote(typeof(SlurmScript).Assembly.Location)}"
            : Quote(process);
    }

    public string Text()
    {
        var text = new StringBuilder("#!/bin/bash\n");
        text.Append("#SBATCH --job-name=actscale-sweep\n");
        text.Append($"#SBATCH --array=0-{Settings - 1}\n");
        text.Append($"#SBATCH --output={Path.Combine(Dir, "logs", "%a.out")}\n");
        text.Append($"#SBATCH --cpus-per-task={Cpus}\n");
        if (Partition is not null) text.Append($"#SBATCH --partition={Partition}\n");
        if (Time is not null) text.Append($"#SBATCH --time={Time}\n");
        if (Gpus > 0) text.Append($"#SBATCH --gpus={Gpus}\n");
        // Slurm sends SIGTERM first when a task is cancelled or runs out of time: the tool then saves the best
        // parameters so far, and the setting stays unfinished, so merge lists it and a resubmission trains it again.
        text.Append("set -euo pipefail\n");
        text.Append($"exec {Command} sweep run {Quote(Dir)} --index \"$SLURM_ARRAY_TASK_ID\"\n");
        return text.ToString();
    }

    public string Write()
    {
        Directory.CreateDirectory(Path.Combine(Dir, "logs"));
        var path = Path.Combine(Dir, FileName);
        File.WriteAllText(path, Text());
        return path;
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
