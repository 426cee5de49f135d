using System.Runtime.CompilerServices;
using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.CSharp;

namespace ActScale.Notebook;

// Over 200 lines: the session owns the kernel-visible state and the one lock that keeps a training's model and task alive; both must stay in one place.

/// <summary>
/// What one notebook kernel holds between magic commands: the model, the prompts, and every run trained so
/// far. A failed command never removes a run; only a successful train or sweep adds or replaces one.
/// </summary>
public sealed class NotebookSession
{
    private static readonly ConditionalWeakTable<Kernel, NotebookSession> Sessions = new();
    private readonly Dictionary<string, object> _runs = new(StringComparer.Ordinal);
    private readonly List<string> _order = new();

    private NotebookSession(Kernel root) => Root = root;

    public static NotebookSession For(Kernel kernel) => Sessions.GetValue(kernel.RootKernel, k => new NotebookSession(k));

    public Kernel Root { get; }
    public LanguageModel? Model { get; internal set; }

    public LanguageModel RequireModel() =>
        Model ?? throw new UsageException("No model is loaded. Run `#!actscale load` first (add --model PATH for your own checkpoint).");

    /// <summary>The prompts chosen by the last <c>data</c> command.</summary>
    public IReadOnlyList<PromptExample>? Examples { get; private set; }
    public string? DataSource { get; private set; }
    private readonly Dictionary<bool, (PreparedTask Task, string? Note)> _prepared = new();

    /// <summary>Sweep results by name prefix.</summary>
    public Dictionary<string, SweepResult> Sweeps { get; } = new();

    internal void SetData(IReadOnlyList<PromptExample> examples, string source)
    {
        DropPrepared();
        Examples = examples;
        DataSource = source;
    }

    /// <summary>Called when another model is loaded: prepared prompts belong to the old one.</summary>
    internal void DropPrepared()
    {
        foreach (var (task, _) in _prepared.Values) task.Dispose();
        _prepared.Clear();
    }

    /// <summary>The prompts prepared for the model (cached); positional methods get the most common prompt length only.</summary>
    internal (PreparedTask Task, string? Note) RequireTask(InterventionMethod method)
    {
        var model = RequireModel();
        if (Examples is null) throw new UsageException("No prompts yet. Run `#!actscale data --task ccc` (or ioi, or a .jsonl file) first.");
        if (_prepared.TryGetValue(method.IsPositional, out var cached) && cached.Task.ModelIdentity == model.Identity) return cached;
        return _prepared[method.IsPositional] = PreparedTask.PrepareFor(model, Examples, method);
    }

    /// <summary>
    /// Shares <c>runs</c> (name → run with metrics), <c>metrics</c> (every run's metric rows) and, where Deedle can
    /// load, <c>frames</c> (name → Deedle frame). Deedle 8 needs FSharp.Core 10.1, and a kernel that already carries
    /// an older FSharp.Core (dotnet-repl 0.3.259 has 10.0) cannot load it: then <c>frames</c> is left out, once, with a note.
    /// </summary>
    internal async Task ShareRunsAsync()
    {
        var runs = _order.ToDictionary(n => n, n => (NotebookRun)_runs[n]);
        await ShareAsync("runs", runs, typeof(IReadOnlyDictionary<string, NotebookRun>));
        await ShareAsync("metrics", runs.Values.SelectMany(r => r.Metrics).ToArray(), typeof(IReadOnlyList<ActScale.Evaluation.MetricRow>));
        if (DeedleUsable())
            await ShareAsync("frames", FramesOf(runs), typeof(IReadOnlyDictionary<string, Deedle.Frame<int, string>>));
    }

    private static Dictionary<string, Deedle.Frame<int, string>> FramesOf(Dictionary<string, NotebookRun> runs) =>
        runs.ToDictionary(kv => kv.Key, kv => kv.Value.Frame);

    private bool? _deedle;

    /// <summary>Whether Deedle frames can be built in this process (see <see cref="ShareRunsAsync"/>).</summary>
    internal bool DeedleUsable()
    {
        if (_deedle is bool known) return known;
        try
        {
            _ = MakeProbeFrame();
            _deedle = true;
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException or MissingMethodException or TypeInitializationException)
        {
            _deedle = false;
            if (KernelInvocationContext.Current is { } current)
                KernelInvocationContextExtensions.Display(current,
                    $"(No Deedle frames in this kernel: its FSharp.Core cannot stand in for the one Deedle needs ({e.GetType().Name}). The C# variables 'metrics' and 'comparison' hold the same rows as records.)", "text/plain");
        }
        return _deedle.Value;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static object MakeProbeFrame() => ActScale.Evaluation.Evaluator.ToFrame(Array.Empty<ActScale.Evaluation.MetricRow>());

    public IReadOnlyList<string> RunNames => _order.ToArray();
    public string? LastRunName => _order.Count > 0 ? _order[^1] : null;

    internal void AddRun(string name, object run)
    {
        if (_runs.TryGetValue(name, out var previous) && !ReferenceEquals(previous, run) && previous is NotebookRun old) old.Run.Dispose();
        _runs[name] = run;
        _order.Remove(name);
        _order.Add(name);
    }

    internal T RequireRun<T>(string? name) where T : class
    {
        if (_order.Count == 0)
            throw new UsageException("No run has been trained yet. Run `#!actscale train` first.");
        var key = string.IsNullOrWhiteSpace(name) ? LastRunName! : name.Trim();
        if (!_runs.TryGetValue(key, out var run))
            throw new UsageException($"There is no run named '{key}'. Runs in this session: {string.Join(", ", _order)}.");
        return run as T ?? throw new UsageException($"Run '{key}' is not a trained run.");
    }

    /// <summary>
    /// Only one training at a time: a second train is refused, not queued. The training holds the session until
    /// <see cref="IDisposable.Dispose"/>, which the handler calls only after its run is kept (or its failure shown):
    /// an interrupted training is waited for by <see cref="SettleAsync"/>, so no command disposes what it uses.
    /// </summary>
    internal IDisposable BeginTraining(string what, CancellationToken interrupt = default)
    {
        var running = new RunningTraining(interrupt);
        if (Interlocked.CompareExchange(ref _training, running, null) is not null)
            throw new UsageException($"A training is already running in this notebook; wait for it to finish (or interrupt it) before starting {what}.");
        return new Release(() =>
        {
            Interlocked.Exchange(ref _training, null);
            running.Finished.TrySetResult();
        });
    }

    /// <summary>
    /// Called before every command. A training that was interrupted is still finishing its step and keeping its run:
    /// the command waits for it, so it sees that run. A training that is not interrupted keeps running; a command
    /// that would dispose the model or the prompts it uses (load, data) is refused.
    /// </summary>
    internal async Task SettleAsync(string command)
    {
        if (Volatile.Read(ref _training) is not { } running) return;
        if (running.Interrupted)
        {
            await running.Finished.Task;
            return;
        }
        if (command is "load" or "data")
            throw new UsageException($"A training is running in this notebook, and #!actscale {command} would replace the model or prompts it uses. " +
                                     "Wait for it to finish, or interrupt it first (the interrupted run is kept, then this command runs).");
    }

    private RunningTraining? _training;

    private sealed class RunningTraining(CancellationToken interrupt)
    {
        public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Interrupted => interrupt.IsCancellationRequested;
    }

    /// <summary>How training and sweep progress is shown (see <see cref="Notebook.LiveUpdates"/>).</summary>
    public LiveUpdates LiveUpdates { get; set; } =
        Enum.TryParse<LiveUpdates>(Environment.GetEnvironmentVariable("ACTSCALE_LIVE_UPDATES"), true, out var mode) ? mode : LiveUpdates.Auto;

    public bool IsTraining => Volatile.Read(ref _training) is not null;

    /// <summary>
    /// Test seam: called with each training progress report on the training thread; an exception it throws fails
    /// the step as a device error would (how the out-of-memory handling is tested without exhausting memory).
    /// </summary>
    internal Action<Training.TrainingProgress>? StepProbe { get; set; }

    /// <summary>Makes a value visible to C# cells under <paramref name="name"/>.</summary>
    internal async Task ShareAsync(string name, object value, Type type)
    {
        var csharp = Root is CompositeKernel composite
            ? composite.ChildKernels.OfType<CSharpKernel>().FirstOrDefault()
            : Root as CSharpKernel;
        if (csharp is null) return;
        try
        {
            await csharp.SetValueAsync(name, value, type);
        }
        catch (Exception e)
        {
            // The C# kernel cannot see ActScale's types (no #r of the package): the command still worked.
            if (KernelInvocationContext.Current is { } current) KernelInvocationContextExtensions.Display(current, $"(ActScale could not set the C# variable '{name}': {e.Message.Split('\n')[0]})", "text/plain");
        }
    }

    private sealed class Release(Action release) : IDisposable
    {
        private Action? _release = release;
        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
