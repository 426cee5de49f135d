using ActScale.Training;

namespace ActScale.Evaluation;

/// <summary>
/// A matrix ready to plot: <see cref="Values"/>[row, column] with rows = (layer, site kind) labelled like "L3 attn_out"
/// and columns = positions labelled by a representative prompt's token strings (or the method's own column names).
/// <see cref="Neutral"/> is the value meaning "no change" (centre of the colour scale when <see cref="Diverging"/>).
/// </summary>
public sealed record HeatmapView(string Title, string ValueName, double[,] Values, string[] RowLabels, string[] ColumnLabels, double Neutral,
    bool Diverging, bool ColumnsArePositions, string ColumnTitle)
{
    public int Rows => Values.GetLength(0);
    public int Columns => Values.GetLength(1);

    /// <summary>Column labels for an axis: positions get their index ("3: Paris"), so repeated tokens stay apart.</summary>
    public string[] AxisLabels => ColumnsArePositions
        ? ColumnLabels.Select((label, i) => $"{i}:{label.Replace("\n", "\\n")}").ToArray()
        : ColumnLabels;
}

/// <summary>Draws a run's effect map in the style its method declares.</summary>
public static class RunHeatmap
{
    /// <summary>
    /// The run's <see cref="InterventionRun.Effect"/> as a heatmap, rows "L{layer} {site}" in model order (layer-major:
    /// L0 attn_out, L0 mlp_out, L1 attn_out, ...), columns the training prompt's tokens or the method's column names.
    /// </summary>
    public static HeatmapView Heatmap(this InterventionRun run)
    {
        var style = run.Method.Heatmap;
        var effect = run.Effect();
        int sites = effect.GetLength(0), layers = effect.GetLength(1), cols = effect.GetLength(2);
        var matrix = new double[layers * sites, cols];
        var rows = new string[layers * sites];
        for (int l = 0; l < layers; l++)
            for (int s = 0; s < sites; s++)
            {
                int r = l * sites + s;
                rows[r] = $"L{l} {Hooks.Site.KindName(run.SiteKinds[s])}";
                for (int c = 0; c < cols; c++) matrix[r, c] = effect[s, l, c];
            }
        var names = style.ColumnNames ?? run.TokenLabels;
        var columns = Enumerable.Range(0, cols).Select(i => i < names.Length ? names[i] : $"pos {i}").ToArray();
        return new HeatmapView($"{run.Name}: {run.Method} {style.ValueName}", style.ValueName, matrix, rows, columns, 0.0,
            style.Diverging, style.ColumnNames is null, style.ColumnTitle);
    }
}
