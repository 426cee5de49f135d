using ActScale.Notebook;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace ActScale.Tests.Notebook;

/// <summary>A real composite kernel with a C# subkernel and the ActScale extension loaded, as a notebook has.</summary>
public sealed class NotebookKernel : IDisposable
{
    public CompositeKernel Kernel { get; }

    public NotebookKernel()
    {
        Kernel = new CompositeKernel { new CSharpKernel().UseKernelHelpers().UseValueSharing() };
        Kernel.DefaultKernelName = "csharp";
        // As #r "nuget: ActScale.Notebook" does: the C# kernel references the assembly, then the extension loads.
        var references = string.Join("\n", new[] { typeof(ActScaleExtension), typeof(Deedle.Frame), typeof(Microsoft.FSharp.Core.Unit) }
            .Select(t => $"#r \"{t.Assembly.Location}\""));
        var reference = Kernel.SendAsync(new SubmitCode(references)).GetAwaiter().GetResult();
        if (reference.Events.OfType<CommandFailed>().FirstOrDefault() is { } failed) throw new InvalidOperationException(failed.Message);
        ActScaleExtension.LoadAsync(Kernel).GetAwaiter().GetResult();
    }

    public async Task<Result> SubmitAsync(string code)
    {
        var result = await Kernel.SendAsync(new SubmitCode(code));
        return new Result(result.Events.ToArray());
    }

    public void Dispose() => Kernel.Dispose();

    public sealed record Result(IReadOnlyList<KernelEvent> Events)
    {
        public CommandFailed? Failure => Events.OfType<CommandFailed>().FirstOrDefault();
        public bool Succeeded => Failure is null && Events.OfType<CommandSucceeded>().Any();

        /// <summary>Every text/html output, displayed or updated, in order.</summary>
        public IReadOnlyList<string> Html => Events.OfType<DisplayEvent>()
            .SelectMany(e => e.FormattedValues)
            .Where(v => v.MimeType == "text/html")
            .Select(v => v.Value)
            .ToArray();

        public string AllHtml => string.Join("\n", Html);

        public override string ToString() =>
            string.Join("\n", Events.Select(e => e switch
            {
                CommandFailed f => "FAILED: " + f.Message,
                DisplayEvent d => d.GetType().Name + ": " + string.Join(" | ", d.FormattedValues.Select(v => v.MimeType + " " + (v.Value.Length > 300 ? v.Value[..300] + "…" : v.Value))),
                _ => e.GetType().Name,
            }));
    }
}
