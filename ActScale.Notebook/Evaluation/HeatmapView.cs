namespace ActScale.Evaluation;

/// <summary>
/// A matrix ready to plot: <see cref="Values"/>[row, column] with rows = (layer, site kind) labelled like "L3 attn_out"
/// and columns = positions labelled by a representative prompt's token strings (or the probe statistics for DynScalar).
/// <see cref="Neutral"/> is the value meaning "no change" (centre of a diverging colour scale).
/// </summary>
public sealed record HeatmapView(string Title, string ValueName, double[,] Values, string[] RowLabels, string[] ColumnLabels, double Neutral)
{
    public int Rows => Values.GetLength(0);
    public int Columns => Values.GetLength(1);

    /// <summary>Rows as jagged arrays (what most plotting APIs take).</summary>
    public double[][] ToJagged() =>
        Enumerable.Range(0, Rows).Select(r => Enumerable.Range(0, Columns).Select(c => Values[r, c]).ToArray()).ToArray();
}
