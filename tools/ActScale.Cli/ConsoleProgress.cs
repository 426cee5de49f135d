using ActScale.Training;

namespace ActScale.Cli;

/// <summary>
/// Training progress on the console: a bar redrawn in place on a terminal, one plain line per report in a log
/// (a Slurm output file, a pipe), where carriage returns would pile up into one unreadable line.
/// </summary>
internal sealed class ConsoleProgress(string name, TextWriter output, bool terminal) : IProgress<TrainingProgress>
{
    private const int BarWidth = 30;

    public static ConsoleProgress ForStandardError(string name) => new(name, Console.Error, !Console.IsErrorRedirected);

    public void Report(TrainingProgress p)
    {
        if (!terminal)
        {
            output.WriteLine($"{name}: {p}");
            return;
        }
        int filled = p.TotalSteps == 0 ? BarWidth : BarWidth * p.Step / p.TotalSteps;
        output.Write($"\r{name} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {p}\u001b[K");
        if (p.Step == p.TotalSteps) output.WriteLine();
    }

    /// <summary>Ends a bar that stopped early (interrupted) so the next message starts on its own line.</summary>
    public void Finish()
    {
        if (terminal) output.WriteLine();
    }
}
