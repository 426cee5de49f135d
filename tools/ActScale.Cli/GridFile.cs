using System.Text.Json;
using ActScale.Notebook;
using ActScale.Persistence;

namespace ActScale.Cli;

/// <summary>
/// A sweep's grid: a JSON object whose keys are <c>actscale train</c> options without the dashes and whose values are
/// one value or a list of values, e.g. <c>{"task": "ccc", "steps": 20, "lambda-m": [0.001, 0.01], "seed": [0, 1]}</c>.
/// The plan is every combination: options vary in the order the tool declares them (model, data, training), values
/// in the order the file lists them, so the same grid always gives the same plan.
/// </summary>
internal static class GridFile
{
    private static readonly string[] PathOptions = ["--model", "--task"];

    public static IReadOnlyList<SweepSetting> Plan(string gridPath)
    {
        if (!File.Exists(gridPath)) throw new UsageException($"No grid file '{gridPath}'. Write one as JSON, e.g. {{\"task\": \"ccc\", \"steps\": 20, \"lambda-m\": [0.001, 0.01]}}");
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(gridPath));
            root = document.RootElement.Clone();
        }
        catch (JsonException e) { throw new UsageException($"'{gridPath}' is not valid JSON: {e.Message}"); }
        if (root.ValueKind != JsonValueKind.Object) throw new UsageException($"'{gridPath}' must hold a JSON object of option → value or list of values.");

        var given = new Dictionary<string, string[]>();
        foreach (var property in root.EnumerateObject())
        {
            var option = "--" + property.Name.TrimStart('-').ToLowerInvariant();
            if (CliOptions.Setting.All(o => o.Name != option))
                throw new UsageException($"'{gridPath}': '{property.Name}' is not an option of actscale train; grid keys are {string.Join(", ", CliOptions.Setting.Select(o => o.Name[2..]))}.");
            var values = property.Value.ValueKind == JsonValueKind.Array ? property.Value.EnumerateArray().Select(Text).ToArray() : [Text(property.Value)];
            if (values.Length == 0) throw new UsageException($"'{gridPath}': '{property.Name}' lists no values.");
            given[option] = PathOptions.Contains(option) ? values.Select(AbsoluteIfPath).ToArray() : values;
        }
        var axes = CliOptions.Setting.Where(o => given.ContainsKey(o.Name)).Select(o => (o.Name, Values: given[o.Name])).ToArray();
        var combinations = axes.Aggregate(new[] { Array.Empty<(string Name, string Value)>() },
            (partial, axis) => partial.SelectMany(p => axis.Values.Select(v => p.Append((axis.Name, v)).ToArray())).ToArray());
        var varying = axes.Where(a => a.Values.Length > 1).Select(a => a.Name).ToHashSet();
        return combinations.Select((combination, index) =>
        {
            var name = $"s{index:D4}" + string.Concat(combination.Where(c => varying.Contains(c.Name)).Select(c => $"_{c.Name[2..]}={Path.GetFileName(c.Value)}"));
            var options = combination.Append((CliOptions.Name.Name, name)).ToDictionary(c => c.Item1, c => c.Item2);
            var setting = new SweepSetting(index, name, options);
            Check(setting);
            return setting;
        }).ToArray();
    }

    /// <summary>Parses a setting as <c>sweep run</c> will, so a bad value fails the plan, not a job on the cluster.</summary>
    public static CommandLine Check(SweepSetting setting)
    {
        var line = CommandLine.Parse($"setting {setting.Index} ({setting.Name})", setting.Options.SelectMany(kv => new[] { kv.Key, kv.Value }).ToArray(),
            [.. CliOptions.Setting, CliOptions.Name]);
        CliOptions.ParseLoad(line);
        CliOptions.ParseData(line);
        CliOptions.ParseTraining(line);
        CliOptions.ParseThreads(line);
        return line;
    }

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => throw new UsageException($"Grid values must be strings, numbers or booleans (or lists of them), not {value.GetRawText()}."),
    };

    // A job may start in another folder than the plan was made in: paths that exist now are made absolute.
    private static string AbsoluteIfPath(string value) => File.Exists(value) || Directory.Exists(value) ? Path.GetFullPath(value) : value;
}
