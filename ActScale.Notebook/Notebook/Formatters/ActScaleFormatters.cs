using System.Runtime.CompilerServices;
using ActScale.Evaluation;
using ActScale.Training;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;

namespace ActScale.Notebook;

/// <summary>
/// How ActScale's objects display in a notebook: a run, a heatmap view, a comparison, a sweep result and a top-token
/// comparison show the chart or table the magics show, Plotly.NET charts render offline, and every Deedle frame is an
/// HTML table. The magics display these objects, so a C# cell that computes one (<c>runs["activscalar"].Heatmap()</c>)
/// sees the same output. The magics display ActScale's own types (a heatmap view, a sweep result), never a bare chart,
/// so they stay offline even where Plotly.NET.Interactive, whose chart display loads plotly.js from a CDN, is loaded
/// too; for a bare GenericChart the formatter registered last wins.
/// </summary>
public static class ActScaleFormatters
{
    private const string Html = "text/html";
    private static int _registered;

    /// <summary>Registers the formatters (once per process).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        ActScaleHtml.RegisterFormatter();
        Formatter.Register<NotebookRun>((run, writer) => writer.Write(TrainingView.SummaryHtml(run, null)), Html);
        Formatter.Register<TopTokensComparison>((c, writer) => writer.Write(ComparisonTable.TopTokensHtml(null, c)), Html);
        RegisterCharts();
        RegisterFrames();
    }

    /// <summary>The charts of a sweep, one after the other.</summary>
    public static string SweepHtml(SweepResult result) => string.Concat(ActScaleCharts.TradeOffs(result).Select(c => PlotlyHtml.Render(c)));

    // Separate methods, not inlined, so that a host where Plotly.NET or Deedle cannot load (see
    // Runtime/FSharpCoreResolver) fails here, where it is caught, and not in Register's caller.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RegisterCharts() => Guard(() =>
    {
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(PlotlyHtml.Render(chart)), Html);
        Formatter.Register<HeatmapView>((view, writer) => writer.Write(PlotlyHtml.Render(ActScaleCharts.Heatmap(view))), Html);
        Formatter.Register<SweepResult>((result, writer) => writer.Write(SweepHtml(result)), Html);
    });

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RegisterFrames() => Guard(() =>
    {
        Formatter.Register<Deedle.IFrame>((frame, writer) => writer.Write(FrameHtml.Of(frame)), Html);
        Formatter.Register<ComparisonResult>((result, writer) => writer.Write(ComparisonTable.Html(ComparisonTable.Frame(result))), Html);
    });

    private static void Guard(Action register)
    {
        try
        {
            register();
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException or TypeInitializationException)
        {
            // The same condition makes NotebookSession.DeedleUsable say once that frames are records here.
        }
    }
}
