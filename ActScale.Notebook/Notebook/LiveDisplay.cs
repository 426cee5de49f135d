using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace ActScale.Notebook;

/// <summary>When a progress display is updated in place.</summary>
public enum LiveUpdates
{
    /// <summary>In place in an interactive notebook; once, at the end, when the kernel runs headless (dotnet-repl writes every update as its own output).</summary>
    Auto,
    Always,
    /// <summary>Only the final state is shown.</summary>
    Never,
}

/// <summary>One display for a long command: shown once and updated in place (display handles), or shown only when done.</summary>
internal sealed class LiveDisplay
{
    private readonly KernelInvocationContext _context;
    private readonly bool _live;
    private DisplayedValue? _displayed;

    public LiveDisplay(KernelInvocationContext context, LiveUpdates mode, string initialHtml)
    {
        _context = context;
        var headless = context.HandlingKernel?.RootKernel.FrontendEnvironment is AutomationEnvironment;
        _live = mode == LiveUpdates.Always || (mode == LiveUpdates.Auto && !headless);
        if (_live) _displayed = context.Display(new ActScaleHtml(initialHtml), "text/html");
    }

    public void Update(string html)
    {
        if (_live) _displayed?.Update(new ActScaleHtml(html));
    }

    public void Finish(string html)
    {
        if (_displayed is not null) _displayed.Update(new ActScaleHtml(html));
        else _displayed = _context.Display(new ActScaleHtml(html), "text/html");
    }
}
