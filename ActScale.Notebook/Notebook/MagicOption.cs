using System.Globalization;
using System.Text.RegularExpressions;
using ActScale.Objective;

namespace ActScale.Notebook;

/// <summary>
/// One option of an <c>#!actscale</c> subcommand, declared once: its name, help, default, the range or choices its value
/// must meet, and its completions. The kernel directive, the parser, --help and the completions are all made from it.
/// </summary>
public abstract partial record MagicOption(string Name, string Help, string DefaultText)
{
    public Func<NotebookSession, IEnumerable<string>>? Completions { get; init; }
    /// <summary>Whether the value may be typed without the option's name (the first word after the subcommand).</summary>
    public bool Positional { get; init; }
    /// <summary>Whether several values may follow (the parser then collects them).</summary>
    public bool Many { get; init; }
    public string TypeHint { get; init; } = "text";
    /// <summary>Whether the option takes no value: typing its name turns it on.</summary>
    public bool IsFlag { get; init; }

    /// <summary>A value the option accepts: the hint of "needs a value" and what the every-option test types.</summary>
    public abstract string Example { get; }

    /// <summary>The property name the kernel's directive parser stores the value under: --lambda-f → lambdaF.</summary>
    public string JsonName => Dash().Replace(Name.TrimStart('-'), m => m.Value[1..].ToUpperInvariant());

    /// <summary>How the option appears in a usage line.</summary>
    public string Usage => IsFlag ? $"[{Name}]" : Positional ? $"[{Name}] {Placeholder}" : $"[{Name} {Placeholder}]";

    protected virtual string Placeholder => Name.TrimStart('-').ToUpperInvariant();

    [GeneratedRegex("-[a-z]")]
    private static partial Regex Dash();
}

/// <summary>An option whose text becomes a <typeparamref name="T"/>; <see cref="Read"/> throws a <see cref="UsageException"/> that names the option.</summary>
public sealed record MagicOption<T>(string Name, string Help, string DefaultText, Func<string?, T> Read, string ExampleValue) : MagicOption(Name, Help, DefaultText)
{
    public override string Example => ExampleValue;
    /// <summary>Shown in usage lines in place of a generic placeholder (e.g. "activscalar|steervec|dynscalar").</summary>
    public Func<string>? Shape { get; init; }
    protected override string Placeholder => Shape?.Invoke() ?? base.Placeholder;
}

/// <summary>The kinds of option value, each with its parsing and range check in <see cref="Options"/>.</summary>
public static class MagicOptions
{
    public static MagicOption<int> Int(string name, string help, int fallback, int min = int.MinValue, int max = int.MaxValue, int? example = null) =>
        new(name, help, Show(fallback), text => Options.Int(text, name, fallback, min, max), Show(example ?? fallback));

    public static MagicOption<double> Number(string name, string help, double fallback, double min = double.NegativeInfinity) =>
        new(name, help, Show(fallback), text => Options.Double(text, name, fallback, min), Show(fallback));

    /// <summary>A whole number the library limits to <paramref name="range"/>: the help states the range, and the library's check refuses.</summary>
    public static MagicOption<int> Int(string name, string help, int fallback, SettingRange range, int? example = null) =>
        new(name, Limited(help, range), Show(fallback), text => InRange(range, name, Options.Int(text, name, fallback)), Show(example ?? fallback));

    /// <summary>A number the library limits to <paramref name="range"/> (see <see cref="Int(string, string, int, SettingRange, int?)"/>).</summary>
    public static MagicOption<double> Number(string name, string help, double fallback, SettingRange range) =>
        new(name, Limited(help, range), Show(fallback), text => InRange(range, name, Options.Double(text, name, fallback)), Show(fallback));

    /// <summary>An optional number: null when not typed (the library then chooses, e.g. the method's learning rate).</summary>
    public static MagicOption<double?> OptionalNumber(string name, string help, string defaultText, double example, SettingRange range) =>
        new(name, Limited(help, range), defaultText,
            text => string.IsNullOrWhiteSpace(text) ? null : InRange(range, name, Options.Double(text, name, example)), Show(example));

    private static string Limited(string help, SettingRange range) => $"{help} Must be {range.Describe()}.";

    private static T InRange<T>(SettingRange range, string name, T value) where T : System.Numerics.INumber<T>
    {
        try { range.Check(double.CreateChecked(value)); }
        catch (ArgumentException e) { throw new UsageException($"{name}: {e.Message}"); }
        return value;
    }

    /// <summary>An optional whole number: null when not typed.</summary>
    public static MagicOption<int?> OptionalInt(string name, string help, int example, int min = 1) =>
        new(name, help, "", text => string.IsNullOrWhiteSpace(text) ? null : Options.Int(text, name, example, min, int.MaxValue), Show(example));

    /// <summary>Comma-separated numbers; <paramref name="fallback"/> when not typed, or required when there is none.</summary>
    public static MagicOption<IReadOnlyList<double>> Numbers(string name, string help, string example, IReadOnlyList<double>? fallback = null) =>
        new(name, help, fallback is null ? "" : string.Join(",", fallback.Select(Show)),
            text => fallback is not null && string.IsNullOrWhiteSpace(text) ? fallback : Options.Doubles(text, name), example);

    /// <summary>One of <paramref name="choices"/> (lower case), offered as completions and listed in the usage line.</summary>
    public static MagicOption<string> Choice(string name, string help, string fallback, Func<IEnumerable<string>> choices) =>
        new(name, help, fallback, text => Options.Choice(text, name, fallback, choices().ToArray()), choices().Last())
        {
            Completions = _ => choices(),
            Shape = () => string.Join("|", choices()),
        };

    /// <summary>A word that falls back to <paramref name="fallback"/> when not typed.</summary>
    public static MagicOption<string> Word(string name, string help, string fallback, string example) =>
        new(name, help, fallback, text => string.IsNullOrWhiteSpace(text) ? fallback : text.Trim(), example);

    /// <summary>An option typed without a value (<c>--failed</c>): true when typed.</summary>
    public static MagicOption<bool> Flag(string name, string help) =>
        new(name, help, "off", Options.Flag, "") { IsFlag = true };

    /// <summary>Free text (a path, a prompt, a name); null when not typed.</summary>
    public static MagicOption<string?> Text(string name, string help, string defaultText, string example) =>
        new(name, help, defaultText, text => string.IsNullOrWhiteSpace(text) ? null : text.Trim(), example);

    private static string Show(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
