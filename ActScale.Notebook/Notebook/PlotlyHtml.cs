using System.Text;
using Plotly.NET;

namespace ActScale.Notebook;

/// <summary>
/// Renders Plotly.NET charts as HTML that works offline: plotly.js comes from the Plotly.NET assembly (an
/// embedded resource), never from a CDN. The first plot of a kernel session carries plotly.js inline and
/// defines <c>window.Plotly</c>; later plots reuse it, and wait for it when outputs render out of order.
/// With <c>ACTSCALE_PLOTLY_INLINE=always</c> every plot carries its own copy (bigger, self-standing outputs).
/// </summary>
public static class PlotlyHtml
{
    private const string ResourceName = "Plotly.NET.plotly-2.28.0.min.js";
    private static readonly Lazy<string> Script = new(LoadScript);
    private static int _embedded;
    private static int _counter;

    /// <summary>The plotly.js version carried inline.</summary>
    public static string PlotlyVersion => "2.28.0";

    /// <summary>Called when the extension loads into a new kernel: the next plot embeds plotly.js again.</summary>
    public static void ResetSession() => Interlocked.Exchange(ref _embedded, 0);

    /// <summary>
    /// A &lt;div&gt; and script that draw the chart with plotly.js. The figure is Plotly.NET's own serialisation; this
    /// only replaces Plotly.NET's HTML wrapper, which loads plotly.js from a CDN.
    /// </summary>
    public static string Render(GenericChart chart, string? cssClass = "actscale-plot")
    {
        var id = $"actscale-plot-{Guid.NewGuid():N}"[..28] + Interlocked.Increment(ref _counter);
        var figure = GenericChart.toFigureJson(chart);
        var height = GenericChart.getLayout(chart).TryGetTypedPropertyValue<int>("height")?.Value ?? 450;
        var html = new StringBuilder();
        bool inline = Environment.GetEnvironmentVariable("ACTSCALE_PLOTLY_INLINE") is "always"
                      || Interlocked.Exchange(ref _embedded, 1) == 0;
        if (inline)
        {
            // require.js (classic Jupyter, nbconvert pages) would capture plotly's UMD define and leave no
            // window.Plotly; hide define while plotly.js runs.
            html.Append("<script type=\"text/javascript\">window.__actscaleDefine = window.define; window.define = undefined;</script>\n");
            html.Append("<script type=\"text/javascript\">/* plotly.js ").Append(PlotlyVersion).Append(" (MIT), carried inline so the plot renders offline */\n");
            html.Append(Script.Value.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase));
            html.Append("\n</script>\n<script type=\"text/javascript\">if (window.__actscaleDefine) { window.define = window.__actscaleDefine; } delete window.__actscaleDefine;</script>\n");
        }
        html.Append($"<div id=\"{id}\" class=\"{cssClass}\" style=\"width:100%;min-height:{height}px\"></div>\n");
        html.Append("<script type=\"text/javascript\">(function () {\n");
        html.Append($"  var figure = {figure};\n");
        html.Append($"  var tries = 0;\n  function draw() {{\n    var el = document.getElementById('{id}');\n");
        html.Append("    if (window.Plotly && el) { window.Plotly.newPlot(el, figure.data, figure.layout, {responsive: true, displaylogo: false}); return; }\n");
        html.Append("    if (++tries < 200) { setTimeout(draw, 50); return; }\n");
        html.Append("    if (el) { el.className += ' actscale-plot-' + 'unrendered'; el.innerText = 'plotly.js is not loaded in this page: re-run the first ActScale plot cell, or set ACTSCALE_PLOTLY_INLINE=always.'; }\n");
        html.Append("  }\n  draw();\n})();</script>");
        return html.ToString();
    }

    private static string LoadScript()
    {
        var assembly = typeof(GenericChart).Assembly;
        using var stream = assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"plotly.js ({ResourceName}) is missing from {assembly.GetName().Name}; reinstall the package.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
