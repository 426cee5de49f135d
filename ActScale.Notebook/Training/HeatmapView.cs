namespace ActScale.Training;

/// <summary>
/// A matrix ready to plot: <see cref="Values"/>[row, column] with rows = (layer, site kind) labelled like "L3 attn_out"
/// and columns = positions labelled by a representative prompt's token strings (or the method's own column names).
/// <see cref="Neutral"/> is the value meaning "no change" (centre of the colour scale when <see cref="Diverging"/>).
/// Cells whose distance from <see cref="Neutral"/> is at least <see cref="MarkAtOrAbove"/> are marked (e.g. |α| ≥ 1, the
/// reversal point where a scalar erases or flips its activation).
/// </summary>
public sealed record HeatmapView(string Title, string ValueName, double[,] Values, string[] RowLabels, string[] ColumnLabels, double Neutral,
    bool Diverging, bool ColumnsArePositions, string ColumnTitle, double? MarkAtOrAbove = null)
{
    public int Rows => Values.GetLength(0);
    public int Columns => Values.GetLength(1);

    /// <summary>Column labels for an axis: positions get their index ("3: Paris"), so repeated tokens stay apart.</summary>
    public string[] AxisLabels => ColumnsArePositions
        ? ColumnLabels.Select((label, i) => $"{i}:{label.Replace("\n", "\\n")}").ToArray()
        : ColumnLabels;
}
