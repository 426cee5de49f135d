using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Directives;

namespace ActScale.Notebook;

/// <summary>
/// The notebook entry point. The package carries <c>interactive-extensions/dotnet/extension.dib</c>; after
/// <c>#r "nuget: ActScale.Notebook"</c> the kernel runs that script, which calls <see cref="LoadAsync"/>.
/// It adds one magic command, <c>#!actscale</c>, whose subcommands translate into calls on the library.
/// </summary>
public static class ActScaleExtension
{
    public const string Directive = "#!actscale";

    private static readonly object Gate = new();
    private static readonly HashSet<Kernel> Loaded = new(ReferenceEqualityComparer.Instance);

    /// <summary>Registers <c>#!actscale</c> on the root kernel (once per kernel) and shows the short help.</summary>
    public static Task LoadAsync(Kernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var root = kernel.RootKernel;
        lock (Gate)
        {
            if (!Loaded.Add(root)) return Task.CompletedTask;
        }
        ActScaleFormatters.Register();
        var session = NotebookSession.For(root);
        Register(root, session);
        PlotlyHtml.ResetSession();
        KernelInvocationContext.Current?.Display(new ActScaleHtml(ShortHelpHtml()), "text/html");
        return Task.CompletedTask;
    }

    private static void Register(Kernel kernel, NotebookSession session)
    {
        var root = new KernelActionDirective(Directive, "Activation scaling: load a model, train interventions, plot and compare them. Type #!actscale help.");
        var handlers = new List<Action>();
        foreach (var spec in CommandCatalog.All)
        {
            var sub = new KernelActionDirective(spec.Name, spec.Summary);
            foreach (var option in spec.Options)
            {
                var parameter = new KernelDirectiveParameter(option.Name, option.Help + (option.DefaultText.Length == 0 ? "" : $" Default: {option.DefaultText}."))
                {
                    AllowImplicitName = option.Positional,
                    MaxOccurrences = option.Many ? 32 : 1,
                    TypeHint = option.TypeHint,
                    Flag = option.IsFlag,
                };
                if (option.Completions is not null) parameter.AddCompletions(() => option.Completions(session));
                sub.Parameters.Add(parameter);
            }
            sub.Parameters.Add(new KernelDirectiveParameter("--help", $"Show what {spec.Name} does and its options.") { Flag = true });
            root.Subcommands.Add(sub);
        }
        kernel.AddDirective(root, (command, context) =>
        {
            var typed = ActScaleCommand.TypedSubcommand(command);
            if (typed is not null && typed != "--help")
            {
                context.Fail(command, null,
                    $"#!actscale has no subcommand '{typed}'. Subcommands: {string.Join(", ", CommandCatalog.All.Select(s => s.Name))}. Type #!actscale help for their options.");
                return Task.CompletedTask;
            }
            context.Display(new ActScaleHtml(FullHelpHtml()), "text/html");
            return Task.CompletedTask;
        });
        var subs = root.Subcommands.ToDictionary(s => s.Name);
        var handler = new CommandHandlers(session);
        Add<ActScaleHelp>("help", handler.Help);
        Add<ActScaleLoad>("load", handler.Load);
        Add<ActScaleData>("data", handler.Data);
        Add<ActScaleTrain>("train", handler.Train);
        Add<ActScaleHeatmap>("heatmap", handler.Heatmap);
        Add<ActScaleCompare>("compare", handler.Compare);
        Add<ActScaleSweep>("sweep", handler.Sweep);
        Add<ActScaleSave>("save", handler.Save);
        Add<ActScaleApply>("apply", handler.Apply);
        Add<ActScaleGenerate>("generate", handler.Generate);
        Add<ActScaleBeta>("beta", handler.Beta);
        Add<ActScaleLocalize>("localize", handler.Localize);
        Add<ActScalePatch>("patch", handler.Patch);
        Add<ActScaleCompareMaps>("compare-maps", handler.CompareMaps);
        Add<ActScalePredict>("predict", handler.Predict);
        Add<ActScaleRuns>("runs", handler.Runs);
        Add<ActScalePrompts>("prompts", handler.Prompts);
        Add<ActScaleSweepLoad>("sweep-load", handler.SweepLoad);

        void Add<T>(string name, Func<T, KernelInvocationContext, Task> handle) where T : ActScaleCommand =>
            kernel.AddDirective<T>(subs[name], async (command, context) =>
            {
                var spec = CommandCatalog.Find(name);
                if (command.UnknownOptions(name, spec.Options.Select(o => o.Name)).ToArray() is { Length: > 0 } unknown)
                {
                    var known = spec.Options.Count == 0 ? "it takes no options" : "its options are " + string.Join(", ", spec.Options.Select(o => o.Name));
                    context.Fail(command, null,
                        $"#!actscale {name} has no option {string.Join(", ", unknown)}; {known}. Type #!actscale {name} --help for details.");
                    return;
                }
                if (command.OptionsWithoutValue(name).Except(spec.Options.Where(o => o.IsFlag).Select(o => o.Name)).ToArray() is { Length: > 0 } bare)
                {
                    context.Fail(command, null, $"{string.Join(", ", bare)} needs a value, e.g. {bare[0]} {spec.Options.FirstOrDefault(o => o.Name == bare[0])?.Example ?? "VALUE"}. Type #!actscale {name} --help for details.");
                    return;
                }
                if (command.WantsHelp)
                {
                    context.Display(new ActScaleHtml(CommandCatalog.Find(name).HelpHtml()), "text/html");
                    return;
                }
                try
                {
                    await session.SettleAsync(name);
                    await handle(command, context);
                }
                catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
                {
                    context.Fail(command, null, $"#!actscale {name} was interrupted.");
                }
                catch (UsageException usage)
                {
                    context.Fail(command, null, usage.Message);
                }
                catch (ActScale.Runtime.DeviceOutOfMemoryException oom)
                {
                    context.Fail(command, null, $"#!actscale {name}: {oom.Message}");
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidDataException
                                              or NotSupportedException or UnauthorizedAccessException or FormatException or KeyNotFoundException
                                              or ActScale.Tasks.TaskDataException)
                {
                    context.Fail(command, null, $"#!actscale {name}: {e.Message}");
                }
                catch (Exception e)
                {
                    context.Fail(command, null, $"#!actscale {name} failed ({e.GetType().Name}): {e.Message}");
                }
            });
    }

    /// <summary>
    /// Runs <c>#!actscale LINE</c> from C# code (for notebooks that decide in code what to run, e.g. only when a
    /// checkpoint exists). Returns false, after the failure has been shown, when the command failed.
    /// </summary>
    public static async Task<bool> RunAsync(string line)
    {
        var root = KernelInvocationContext.Current?.HandlingKernel?.RootKernel ?? Kernel.Root
            ?? throw new InvalidOperationException("RunAsync needs a running notebook kernel.");
        var result = await root.SendAsync(new Microsoft.DotNet.Interactive.Commands.SubmitCode($"{Directive} {line}"));
        return !result.Events.OfType<Microsoft.DotNet.Interactive.Events.CommandFailed>().Any();
    }

    public static string ShortHelpHtml()
    {
        var html = new StringBuilder();
        html.Append("<div class=\"actscale-help\"><b>ActScale loaded.</b> Magic commands (add <code>--help</code> to any for its options):<ul style=\"margin:4px 0\">");
        foreach (var spec in CommandCatalog.All)
            html.Append($"<li><code>{WebUtility.HtmlEncode(spec.Usage)}</code> — {WebUtility.HtmlEncode(spec.Summary)}</li>");
        html.Append("</ul></div>");
        return html.ToString();
    }

    public static string FullHelpHtml()
    {
        var html = new StringBuilder("<div class=\"actscale-help\">");
        foreach (var spec in CommandCatalog.All) html.Append(spec.HelpHtml());
        return html.Append("</div>").ToString();
    }
}

