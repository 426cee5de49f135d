namespace ActScale.Acceptance;

/// <summary>One acceptance measurement and the closed range it must fall in.</summary>
internal sealed record Check(string Name, double Value, double Min, double Max)
{
    public bool Passed => Value >= Min && Value <= Max;

    public static Check AtLeast(string name, double value, double min) => new(name, value, min, double.PositiveInfinity);
    public static Check AtMost(string name, double value, double max) => new(name, value, double.NegativeInfinity, max);
    public static Check Between(string name, double value, double min, double max) => new(name, value, min, max);

    private string Required => double.IsPositiveInfinity(Max) ? $">= {Min:0.##}" : double.IsNegativeInfinity(Min) ? $"<= {Max:0.##}" : $"{Min:0.##} .. {Max:0.##}";

    public override string ToString() => $"{Name} | {Value:0.000} | {Required} | {(Passed ? "pass" : "FAIL")}";
}
