using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.DotNet.Interactive.Commands;

namespace ActScale.Notebook;

/// <summary>
/// The kernel commands behind <c>#!actscale SUBCOMMAND</c>, one empty type per subcommand (the kernel routes by type).
/// The kernel's directive parser turns <c>--lambda-f 0.5</c> into the JSON property <c>lambdaF</c>; every value lands
/// in <see cref="Values"/> and is read as text through its <see cref="MagicOption{T}"/>, so a bad value becomes a
/// message that says what to type instead of a JSON binding error.
/// </summary>
public abstract class ActScaleCommand : KernelCommand, IOptionValues
{
    /// <summary>Every value the parser passed, by JSON property name.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Values { get; set; }

    /// <summary>The value of <paramref name="option"/>, parsed and range-checked by its declaration.</summary>
    public T Get<T>(MagicOption<T> option) => option.Read(Text(option.JsonName));

    /// <summary>Whether --help was typed.</summary>
    public bool WantsHelp => Options.Flag(Text("help"));

    private string? Text(string jsonName) =>
        Values?.FirstOrDefault(kv => string.Equals(kv.Key, jsonName, StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: not JsonValueKind.Undefined } value
            ? LooseText(value) : null;

    /// <summary>
    /// Any JSON value as its text: the parser sends <c>--steps 50</c> as a number, <c>--help</c> as true and
    /// <c>--sites [a,b]</c> as an array; the options want what the user typed.
    /// </summary>
    private static string? LooseText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array => string.Join(",", value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText())),
        _ => value.GetRawText(),
    };

    private static readonly HashSet<string> ParserProperties = new(StringComparer.OrdinalIgnoreCase)
    {
        "invokedDirective", "targetKernelName", "originUri", "destinationUri", "routingSlip", "token", "id",
    };

    /// <summary>
    /// The options typed that the subcommand does not know (--lambda-x). The kernel's parser drops unknown
    /// names silently, so the submitted cell's own <c>#!actscale NAME</c> lines are read as well.
    /// </summary>
    public IEnumerable<string> UnknownOptions(string subcommand, IEnumerable<string> known)
    {
        var knownSet = new HashSet<string>(known, StringComparer.OrdinalIgnoreCase) { "--help" };
        var fromJson = (Values?.Keys ?? Enumerable.Empty<string>())
            .Where(k => !ParserProperties.Contains(k) && !k.Equals("help", StringComparison.OrdinalIgnoreCase))
            .Select(k => "--" + System.Text.RegularExpressions.Regex.Replace(k, "([A-Z])", m => "-" + m.Value.ToLowerInvariant()));
        return fromJson.Concat(TypedOptionNames(subcommand)).Where(o => !knownSet.Contains(o)).Distinct();
    }

    /// <summary>The words typed after <c>#!actscale NAME</c> that are not options (the parser keeps only the first).</summary>
    public IReadOnlyList<string> TypedPositionalWords(string subcommand) =>
        TypedWords(subcommand, keepQuoted: true).TakeWhile(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();

    /// <summary>Options typed with no value after them (<c>--lr</c> at the end, or right before another option).</summary>
    public IReadOnlyList<string> OptionsWithoutValue(string subcommand)
    {
        var words = TypedWords(subcommand, keepQuoted: true).ToArray();
        var missing = new List<string>();
        for (int i = 0; i < words.Length; i++)
            if (words[i].StartsWith("--", StringComparison.Ordinal) && words[i] != "--help"
                && (i + 1 == words.Length || words[i + 1].StartsWith("--", StringComparison.Ordinal)))
                missing.Add(words[i]);
        return missing;
    }

    /// <summary>The first word typed after <c>#!actscale</c> in the submitted cell, or null.</summary>
    public static string? TypedSubcommand(KernelCommand command)
    {
        for (KernelCommand? c = command; c is not null; c = c.Parent)
        {
            if (c is not SubmitCode submit) continue;
            foreach (var line in submit.Code.Split('\n'))
            {
                var trimmed = line.Trim();
                if (!trimmed.StartsWith(ActScaleExtension.Directive, StringComparison.Ordinal)) continue;
                var rest = trimmed[ActScaleExtension.Directive.Length..];
                if (rest.Length > 0 && !char.IsWhiteSpace(rest[0])) continue;
                return rest.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            }
            return null;
        }
        return null;
    }

    private IEnumerable<string> TypedOptionNames(string subcommand) =>
        TypedWords(subcommand, keepQuoted: false).Where(w => w.StartsWith("--", StringComparison.Ordinal)).Select(w => w.ToLowerInvariant());

    private IEnumerable<string> TypedWords(string subcommand, bool keepQuoted)
    {
        for (KernelCommand? c = this; c is not null; c = c.Parent)
        {
            if (c is not SubmitCode submit) continue;
            foreach (var line in submit.Code.Split('\n'))
            {
                var trimmed = line.Trim();
                var prefix = ActScaleExtension.Directive + " " + subcommand;
                if (!trimmed.StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (trimmed.Length > prefix.Length && !char.IsWhiteSpace(trimmed[prefix.Length])) continue;
                foreach (var word in Words(trimmed[prefix.Length..], keepQuoted)) yield return word;
            }
            yield break;
        }
    }

    /// <summary>Splits on whitespace outside double quotes; quoted words are dropped (they are values).</summary>
    private static IEnumerable<string> Words(string text, bool keepQuoted)
    {
        var word = new System.Text.StringBuilder();
        bool quoted = false, wasQuoted = false;
        foreach (var ch in text + " ")
        {
            if (ch == '"') { quoted = !quoted; wasQuoted = true; continue; }
            if (!quoted && char.IsWhiteSpace(ch))
            {
                if (word.Length > 0 && (keepQuoted || !wasQuoted)) yield return word.ToString();
                word.Clear();
                wasQuoted = false;
                continue;
            }
            word.Append(ch);
        }
    }
}

public sealed class ActScaleHelp : ActScaleCommand;
public sealed class ActScaleLoad : ActScaleCommand;
public sealed class ActScaleData : ActScaleCommand;
public sealed class ActScaleTrain : ActScaleCommand;
public sealed class ActScaleHeatmap : ActScaleCommand;
public sealed class ActScaleCompare : ActScaleCommand;
public sealed class ActScaleSweep : ActScaleCommand;
public sealed class ActScaleSave : ActScaleCommand;
public sealed class ActScaleApply : ActScaleCommand;
public sealed class ActScaleGenerate : ActScaleCommand;
public sealed class ActScaleBeta : ActScaleCommand;
public sealed class ActScaleLocalize : ActScaleCommand;
public sealed class ActScalePatch : ActScaleCommand;
public sealed class ActScaleCompareMaps : ActScaleCommand;
public sealed class ActScalePredict : ActScaleCommand;
public sealed class ActScaleRuns : ActScaleCommand;
