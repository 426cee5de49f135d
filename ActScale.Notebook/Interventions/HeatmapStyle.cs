namespace ActScale.Interventions;

/// <summary>
/// How a method's effect map is drawn: the name of the value, whether it is signed (a diverging scale around 0,
/// the identity), for methods whose columns are not token positions, the columns' names and axis title, and the
/// magnitude at which a cell is marked (<see cref="ActivScalar"/>: |α| = 1, where h·(1 − α) erases or flips the activation).
/// </summary>
public sealed record HeatmapStyle(string ValueName, bool Diverging, string[]? ColumnNames = null, string ColumnTitle = "position (token)",
    double? MarkAtOrAbove = null);
