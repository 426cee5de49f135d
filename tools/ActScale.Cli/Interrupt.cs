using System.Runtime.InteropServices;

namespace ActScale.Cli;

/// <summary>
/// Turns SIGINT (Ctrl+C) and SIGTERM (what Slurm sends a cancelled or timed-out task before killing it) into a
/// cancellation, so training stops at the next step and the best parameters so far are saved before the process ends.
/// </summary>
internal sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;

    public Interrupt()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The signal that arrived, or null.</summary>
    public PosixSignal? Signal { get; private set; }

    /// <summary>The conventional exit code of a process ended by the signal (128 + its number).</summary>
    public int ExitCode => Signal == PosixSignal.SIGTERM ? 143 : 130;

    private void Handle(PosixSignalContext context)
    {
        // Keep the process alive: it stops itself once the run is saved. A second signal is the user insisting.
        if (Signal is not null) return;
        context.Cancel = true;
        Signal = context.Signal;
        Console.Error.WriteLine($"actscale: {context.Signal} received: stopping after this step and saving the best parameters so far.");
        _source.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _source.Dispose();
    }
}
