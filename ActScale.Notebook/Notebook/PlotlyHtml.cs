using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ActScale.Notebook;

/// <summary>
/// Renders Plotly figures as HTML that works offline: plotly.js comes from the Plotly.NET assembly (an
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

    /// <summary>A &lt;div&gt; and script that draw the figure with plotly.js.</summary>
    public static string Render(JsonObject data, string? cssClass = "actscale-plot")
    {
        var id = $"actscale-plot-{Guid.NewGuid():N}"[..28] + Interlocked.Increment(ref _counter);
        var figure = data.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        var height = data["layout"]?["height"]?.GetValue<int>() ?? 450;
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
        // By name, not typeof(GenericChart): no F# type is loaded, so an older FSharp.Core in the kernel does not matter.
        var assembly = System.Reflection.Assembly.Load("Plotly.NET");
        using var stream = assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"plotly.js ({ResourceName}) is missing from {assembly.GetName().Name}; reinstall the package.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    // ---- figure builders -----------------------------------------------------------------------------

    /// <summary>
    /// A heatmap with a diverging scale centred on <paramref name="zMid"/> (no change). Rows and columns are
    /// categorical labels; duplicated column labels (repeated tokens) are kept apart by their position.
    /// </summary>
    public static JsonObject Heatmap(string title, IReadOnlyList<string> rows, IReadOnlyList<string> columns, double[,] z,
        string colorbarTitle, double zMid = 0, bool diverging = true, string? hoverLabel = null, string xTitle = "position (token)")
    {
        var zRows = new JsonArray();
        double maxAbs = 1e-9;
        for (int r = 0; r < rows.Count; r++)
        {
            var row = new JsonArray();
            for (int c = 0; c < columns.Count; c++)
            {
                row.Add(z[r, c]);
                maxAbs = Math.Max(maxAbs, Math.Abs(z[r, c] - zMid));
            }
            zRows.Add(row);
        }
        var trace = new JsonObject
        {
            ["type"] = "heatmap",
            ["z"] = zRows,
            ["x"] = new JsonArray(columns.Select(c => (JsonNode)c).ToArray()),
            ["y"] = new JsonArray(rows.Select(r => (JsonNode)r).ToArray()),
            ["colorbar"] = new JsonObject { ["title"] = new JsonObject { ["text"] = colorbarTitle } },
            ["hovertemplate"] = $"%{{y}}<br>%{{x}}<br>{hoverLabel ?? colorbarTitle} = %{{z:.4f}}<extra></extra>",
        };
        if (diverging)
        {
            trace["colorscale"] = "RdBu";
            trace["reversescale"] = true;
            trace["zmid"] = zMid;
            trace["zmin"] = zMid - maxAbs;
            trace["zmax"] = zMid + maxAbs;
        }
        else
        {
            trace["colorscale"] = "Viridis";
            trace["zmin"] = 0;
        }
        var layout = new JsonObject
        {
            ["title"] = new JsonObject { ["text"] = title },
            ["height"] = Math.Clamp(140 + 22 * rows.Count, 320, 900),
            ["margin"] = new JsonObject { ["l"] = 150, ["r"] = 40, ["t"] = 60, ["b"] = 110 },
            ["xaxis"] = new JsonObject { ["type"] = "category", ["tickangle"] = -45, ["automargin"] = true, ["title"] = new JsonObject { ["text"] = xTitle } },
            ["yaxis"] = new JsonObject { ["type"] = "category", ["autorange"] = "reversed", ["automargin"] = true, ["title"] = new JsonObject { ["text"] = "site × layer" } },
        };
        return new JsonObject { ["data"] = new JsonArray(trace), ["layout"] = layout };
    }

    /// <summary>One line-and-marker series per entry, each point labelled.</summary>
    public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<string> Labels, string Dash = "solid");

    public static JsonObject Scatter(string title, string xTitle, string yTitle, IEnumerable<Series> series, bool logX = false, string? domId = null)
    {
        var traces = new JsonArray();
        foreach (var s in series)
            traces.Add(new JsonObject
            {
                ["type"] = "scatter",
                ["mode"] = "lines+markers",
                ["name"] = s.Name,
                ["x"] = new JsonArray(s.X.Select(v => (JsonNode)v).ToArray()),
                ["y"] = new JsonArray(s.Y.Select(v => (JsonNode)v).ToArray()),
                ["text"] = new JsonArray(s.Labels.Select(v => (JsonNode)v).ToArray()),
                ["line"] = new JsonObject { ["dash"] = s.Dash },
                ["hovertemplate"] = "%{text}<br>x = %{x:.4g}<br>y = %{y:.4g}<extra>" + s.Name + "</extra>",
            });
        var layout = new JsonObject
        {
            ["title"] = new JsonObject { ["text"] = title },
            ["height"] = 420,
            ["xaxis"] = new JsonObject { ["title"] = new JsonObject { ["text"] = xTitle }, ["type"] = logX ? "log" : "linear" },
            ["yaxis"] = new JsonObject { ["title"] = new JsonObject { ["text"] = yTitle } },
        };
        return new JsonObject { ["data"] = traces, ["layout"] = layout };
    }
}
