using System.Globalization;
using System.Net;
using System.Text;
using Deedle;

namespace ActScale.Notebook;

/// <summary>
/// Any Deedle frame as an HTML table (row keys on the left, column keys on top, missing values blank): the one table
/// format of ActScale's notebook output. Deedle's own display is plain text, and the kernel's default lists the frame's
/// properties.
/// </summary>
public sealed class FrameHtml : IFrameOperation<string>
{
    private FrameHtml() { }

    public static string Of(IFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.Apply(new FrameHtml());
    }

    public string Invoke<TRow, TColumn>(Frame<TRow, TColumn> frame)
    {
        var columns = frame.ColumnKeys.ToArray();
        var html = new StringBuilder("<table class=\"actscale-frame\"><thead><tr><th></th>");
        foreach (var column in columns) html.Append("<th>").Append(Encode(column)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        var series = columns.Select(c => frame.GetColumn<object>(c)).ToArray();
        foreach (var row in frame.RowKeys)
        {
            html.Append("<tr><th style=\"text-align:left\">").Append(Encode(row)).Append("</th>");
            foreach (var column in series)
            {
                var cell = column.TryGet(row);
                html.Append("<td>").Append(cell.HasValue ? Encode(cell.Value) : "").Append("</td>");
            }
            html.Append("</tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }

    private static string Encode(object? value) => WebUtility.HtmlEncode(value switch
    {
        double d => d.ToString("G4", CultureInfo.InvariantCulture),
        float f => f.ToString("G4", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "",
    });
}
