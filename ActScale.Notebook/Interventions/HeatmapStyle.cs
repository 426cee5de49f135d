namespace ActScale.Interventions;

/// <summary>
/// How a method's effect map is drawn: the name of the value, whether it is signed (a diverging scale around 0,
/// the identity) and, for methods whose columns are not token positions, the columns' names and axis title.
/// </summary>
public sealed record HeatmapStyle(string ValueName, bool Diverging, string[]? ColumnNames = null, string ColumnTitle = "position (token)");
