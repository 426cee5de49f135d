using ActScale.Evaluation;
using ActScale.Training;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using CSharpChart = Plotly.NET.CSharp.Chart;
using CSharpStyle = Plotly.NET.CSharp.GenericChartExtensions;

namespace ActScale.Notebook;

/// <summary>
/// ActScale's figures as Plotly.NET charts, built with Plotly.NET.CSharp and serialised by Plotly.NET. They display
/// offline in a notebook (see <see cref="ActScaleFormatters"/>), and a C# program can save or combine them like any chart.
/// </summary>
public static class ActScaleCharts
{
    /// <summary>
    /// The heatmap of a run's parameters: rows site × layer, columns the prompt's tokens (each labelled "position:token",
    /// so repeated tokens stay apart). Signed values get a diverging scale centred on <see cref="HeatmapView.Neutral"/>
    /// (no change); magnitudes (norms) a sequential one from 0.
    /// </summary>
    public static GenericChart Heatmap(HeatmapView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        // The method decides the styling (HeatmapView.Diverging): signed scalars diverge around no change, norms do not.
        bool magnitude = !view.Diverging;
        var columns = view.AxisLabels;
        var z = Enumerable.Range(0, view.Rows).Select(r => Enumerable.Range(0, view.Columns).Select(c => view.Values[r, c]).ToArray()).ToArray();
        var chart = CSharpChart.Heatmap<double, string, string, string>(
            zData: z, X: columns, Y: view.RowLabels,
            ColorScale: magnitude ? StyleParam.Colorscale.Viridis : StyleParam.Colorscale.RdBu, ReverseScale: !magnitude,
            ReverseYAxis: true, UseDefaults: false);
        chart = CSharpStyle.WithXAxisStyle<double, double, string>(chart, TitleText: view.ColumnTitle, AxisType: StyleParam.AxisType.Category);
        chart = CSharpStyle.WithYAxisStyle<double, double, string>(chart, TitleText: "site × layer", AxisType: StyleParam.AxisType.Category);
        double maxAbs = Math.Max(1e-9, z.SelectMany(row => row).Select(v => Math.Abs(v - view.Neutral)).DefaultIfEmpty(0).Max());
        var scale = magnitude ? new PlotlyAttributes.ColourRange(0, null, null) : new PlotlyAttributes.ColourRange(view.Neutral - maxAbs, view.Neutral, view.Neutral + maxAbs);
        chart = PlotlyAttributes.Heatmap(chart, scale, view.ValueName, $"%{{y}}<br>%{{x}}<br>{view.ValueName} = %{{z:.4f}}<extra></extra>");
        if (view.MarkAtOrAbove is double mark)
            chart = PlotlyAttributes.CellText(chart, z.Select(row => row.Select(v => Math.Abs(v - view.Neutral) >= mark ? "●" : "").ToArray()).ToArray());
        return PlotlyAttributes.Layout(chart, view.Title + (magnitude ? "" : " (0 = no change)"), Math.Clamp(140 + 22 * view.Rows, 320, 900),
            tickAngle: -45, margins: new PlotlyAttributes.Margins(Left: 150, Right: 40, Top: 60, Bottom: 110));
    }

    /// <summary>One labelled line of a <see cref="Lines"/> chart; <paramref name="Dashed"/> for a reference or test curve.</summary>
    public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<string> Labels, bool Dashed = false);

    /// <summary>Lines with markers, one per series, each point labelled on hover.</summary>
    public static GenericChart Lines(string title, string xTitle, string yTitle, IEnumerable<Series> series, bool logX = false)
    {
        var traces = series.Select(s => PlotlyAttributes.Hover(
            CSharpChart.Scatter<double, double, string>(s.X, s.Y, StyleParam.Mode.Lines_Markers, Name: s.Name, MultiText: s.Labels.ToArray(),
                LineDash: s.Dashed ? StyleParam.DrawingStyle.Dash : StyleParam.DrawingStyle.Solid, UseDefaults: false),
            "%{text}<br>x = %{x:.4g}<br>y = %{y:.4g}<extra>" + s.Name + "</extra>")).ToArray();
        var chart = Chart.combine(traces);
        chart = CSharpStyle.WithXAxisStyle<double, double, string>(chart, TitleText: xTitle, AxisType: logX ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear);
        chart = CSharpStyle.WithYAxisStyle<double, double, string>(chart, TitleText: yTitle);
        return PlotlyAttributes.Layout(chart, title, 420);
    }

    /// <summary>The trade-off charts of a sweep (effectiveness against minimality and against faithfulness).</summary>
    public static IReadOnlyList<GenericChart> TradeOffs(SweepResult result) => SweepPlots.Figures(result);
}

/// <summary>
/// The few plotly attributes ActScale needs that Plotly.NET.CSharp 0.14 does not expose (colour range, hover text, colour
/// bar and figure titles, height, margins, tick angle, automatic axis margins). Plotly.NET's F# style functions have them, but as F#-only optional
/// arguments that C# cannot leave out; so they are set here on Plotly.NET's own trace and layout objects, which
/// Plotly.NET then serialises with the rest. Remove this class when Plotly.NET.CSharp grows these arguments.
/// </summary>
internal static class PlotlyAttributes
{
    public sealed record ColourRange(double Min, double? Mid, double? Max);

    public sealed record Margins(int Left, int Right, int Top, int Bottom);

    public static GenericChart Heatmap(GenericChart chart, ColourRange range, string colourBarTitle, string hoverTemplate) =>
        GenericChart.mapTrace(FuncConvert.FromFunc<Trace, Trace>(trace =>
        {
            trace.SetProperty("zmin", range.Min);
            if (range.Mid is { } mid) trace.SetProperty("zmid", mid);
            if (range.Max is { } max) trace.SetProperty("zmax", max);
            var bar = new ColorBar();
            bar.SetProperty("title", TitleOf(colourBarTitle));
            trace.SetProperty("colorbar", bar);
            trace.SetProperty("hovertemplate", hoverTemplate);
            return trace;
        }), chart);

    /// <summary>Text drawn in each heatmap cell (e.g. a mark on cells past a threshold).</summary>
    public static GenericChart CellText(GenericChart chart, string[][] text) =>
        GenericChart.mapTrace(FuncConvert.FromFunc<Trace, Trace>(trace =>
        {
            trace.SetProperty("text", text);
            trace.SetProperty("texttemplate", "%{text}");
            return trace;
        }), chart);

    public static GenericChart Hover(GenericChart chart, string hoverTemplate) =>
        GenericChart.mapTrace(FuncConvert.FromFunc<Trace, Trace>(trace =>
        {
            trace.SetProperty("hovertemplate", hoverTemplate);
            return trace;
        }), chart);

    /// <summary>Title and height; the width is left to the page (the plot is drawn responsive).</summary>
    public static GenericChart Layout(GenericChart chart, string title, int height, int? tickAngle = null, Margins? margins = null) =>
        GenericChart.mapLayout(FuncConvert.FromFunc<Layout, Layout>(layout =>
        {
            layout.SetProperty("title", TitleOf(title));
            layout.SetProperty("height", height);
            if (margins is not null)
            {
                var margin = new Margin();
                margin.SetProperty("l", margins.Left);
                margin.SetProperty("r", margins.Right);
                margin.SetProperty("t", margins.Top);
                margin.SetProperty("b", margins.Bottom);
                layout.SetProperty("margin", margin);
            }
            foreach (var name in new[] { "xaxis", "yaxis" })
                if (layout.TryGetTypedPropertyValue<LinearAxis>(name) is { } axis)
                {
                    // Long token and site labels push the axis titles out instead of overlapping them.
                    axis.Value.SetProperty("automargin", true);
                    if (name == "xaxis" && tickAngle is { } angle) axis.Value.SetProperty("tickangle", angle);
                }
            return layout;
        }), chart);

    private static Title TitleOf(string text)
    {
        var title = new Title();
        title.SetProperty("text", text);
        return title;
    }
}
