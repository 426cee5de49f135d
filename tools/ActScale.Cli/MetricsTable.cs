using System.Globalization;
using System.Text;
using ActScale.Evaluation;

namespace ActScale.Cli;

/// <summary>Metric rows as an aligned plain-text table for a terminal or a log.</summary>
internal static class MetricsTable
{
    private static readonly string[] Header = ["run", "split", "beta", "prompts", "flip_acc", "mean_LD", "signed_LD", "KL", "L1", "sites>0.1"];

    public static string Text(IEnumerable<MetricRow> rows)
    {
        var cells = rows.Select(r => new[]
        {
            r.Run, r.Split, F(r.Beta), r.Prompts.ToString(CultureInfo.InvariantCulture), F(r.FlipAccuracy), F(r.MeanLogitDifference),
            F(r.MeanSignedLogitDifference), F(r.Kl), F(r.L1), r.NonTrivialSites.ToString(CultureInfo.InvariantCulture),
        }).Prepend(Header).ToArray();
        var widths = Enumerable.Range(0, Header.Length).Select(c => cells.Max(row => row[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in cells) text.AppendLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
        return text.ToString();
    }

    private static string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
