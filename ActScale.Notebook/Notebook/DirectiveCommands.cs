using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.DotNet.Interactive.Commands;

namespace ActScale.Notebook;

/// <summary>
/// The kernel commands behind <c>#!actscale SUBCOMMAND</c>. The kernel's directive parser turns
/// <c>--lambda-f 0.5</c> into the JSON property <c>lambdaF</c>; every option arrives as text here and is
/// checked by <see cref="Options"/>, so a bad value becomes a message that says what to type instead of a
/// JSON binding error.
/// </summary>
public abstract class ActScaleCommand : KernelCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Help { get; set; }

    /// <summary>Whatever the parser passed that no property takes: an option the subcommand does not have.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }

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
        var fromJson = (Unknown?.Keys ?? Enumerable.Empty<string>())
            .Where(k => !ParserProperties.Contains(k))
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

public sealed class ActScaleLoad : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Model { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Device { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Dtype { get; set; }
}

public sealed class ActScaleData : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Task { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Train { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Test { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Seed { get; set; }
}

public sealed class ActScaleTrain : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Method { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Sites { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Margin { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? LambdaF { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? LambdaM { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Steps { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Lr { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Batch { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Seed { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Name { get; set; }
}

public sealed class ActScaleHeatmap : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Run { get; set; }
}

public sealed class ActScaleCompare : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Runs { get; set; }
}

public sealed class ActScaleSweep : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Method { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Param { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Values { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Sites { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Steps { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Lr { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Batch { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Seed { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Name { get; set; }
}

public sealed class ActScaleSave : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Run { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Path { get; set; }
}

public sealed class ActScaleApply : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Run { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Prompt { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Beta { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Top { get; set; }
}

public sealed class ActScalePredict : ActScaleCommand
{
    [JsonConverter(typeof(LooseStringConverter))] public string? Prompt { get; set; }
    [JsonConverter(typeof(LooseStringConverter))] public string? Top { get; set; }
}

public sealed class ActScaleRuns : ActScaleCommand
{
}

/// <summary>
/// Reads any JSON token as its text: the parser sends <c>--steps 50</c> as a number, <c>--help</c> as
/// true and <c>--sites [a,b]</c> as an array; the handlers want what the user typed.
/// </summary>
public sealed class LooseStringConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.True: return "true";
            case JsonTokenType.False: return "false";
            case JsonTokenType.Number:
                using (var number = JsonDocument.ParseValue(ref reader)) return number.RootElement.GetRawText();
            default:
                using (var other = JsonDocument.ParseValue(ref reader))
                {
                    if (other.RootElement.ValueKind == JsonValueKind.Array)
                        return string.Join(",", other.RootElement.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()));
                    return other.RootElement.GetRawText();
                }
        }
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue(); else writer.WriteStringValue(value);
    }
}
