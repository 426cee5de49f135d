using System.Text.Json;
using System.Text.Json.Serialization;
using ActScale.Evaluation;
using ActScale.Training;
using ActScale.Runtime;

namespace ActScale.Persistence;

/// <summary>
/// One setting of a planned sweep: its position in the plan, a readable name, and the options that train it,
/// written as a user would type them (<c>--lambda-m</c> → <c>0.01</c>), so a setting is exactly one <c>actscale train</c>.
/// </summary>
public sealed record SweepSetting(int Index, string Name, IReadOnlyDictionary<string, string> Options);

/// <summary>
/// What one finished (or interrupted) setting left behind besides its saved run: its metric rows, and whether
/// training ran to the end. Only a complete setting counts as done; an interrupted one is trained again.
/// </summary>
public sealed record SettingResult(bool Complete, int StepsCompleted, double TrainingSeconds, IReadOnlyList<MetricRow> Metrics);

/// <summary>
/// A run as the <c>actscale</c> tool writes it: <c>run.json</c> (<see cref="RunStore"/>) and
/// <c>metrics.json</c> (<see cref="SettingResult"/>), written last and atomically, so its presence marks a whole run.
/// </summary>
public static class RunFolder
{
    // Metrics may be NaN (a diverged setting's KL); JSON has no literal for it, so it is written as the string "NaN".
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static string RunPath(string dir) => Path.Combine(dir, "run.json");
    public static string ResultPath(string dir) => Path.Combine(dir, "metrics.json");

    /// <summary>Saves the run, then its result; returns the run's metadata path.</summary>
    public static string Write(string dir, InterventionRun run, SettingResult result)
    {
        var path = RunStore.Save(run, RunPath(dir));
        AtomicFile.WriteAllText(ResultPath(dir), JsonSerializer.Serialize(result, Json));
        return path;
    }

    /// <summary>The run's result, or null when it has none yet.</summary>
    public static SettingResult? ReadResult(string dir)
    {
        var path = ResultPath(dir);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<SettingResult>(File.ReadAllText(path), Json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a run's metrics ({e.Message}). Train the run again.", e);
        }
    }
}

/// <summary>
/// The on-disk layout of a sweep, shared by the <c>actscale</c> tool that writes it and the notebook that reads it:
/// <c>plan.jsonl</c> (one <see cref="SweepSetting"/> a line, in plan order) and one <see cref="RunFolder"/> per
/// setting under <c>settings/NNNN</c>.
/// </summary>
public static class SweepFolder
{
    public const string PlanFile = "plan.jsonl";

    public static string PlanPath(string dir) => Path.Combine(dir, PlanFile);
    public static string SettingFolder(string dir, int index) => Path.Combine(dir, "settings", index.ToString("D4", System.Globalization.CultureInfo.InvariantCulture));

    public static void WritePlan(string dir, IEnumerable<SweepSetting> settings) =>
        AtomicFile.WriteAllText(PlanPath(dir), string.Concat(settings.Select(s => JsonSerializer.Serialize(s) + "\n")));

    public static IReadOnlyList<SweepSetting> ReadPlan(string dir)
    {
        var path = PlanPath(dir);
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{dir}' holds no sweep plan ({PlanFile}). Make one with: actscale sweep plan GRID.json --out {dir}", path);
        var settings = File.ReadLines(path).Where(l => l.Trim().Length > 0).Select((line, n) =>
        {
            try
            {
                return JsonSerializer.Deserialize<SweepSetting>(line) ?? throw new JsonException("null");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"Line {n + 1} of '{path}' is not a sweep setting ({e.Message}). Plan the sweep again.", e);
            }
        }).ToArray();
        for (int i = 0; i < settings.Length; i++)
            if (settings[i].Index != i) throw new InvalidDataException($"Line {i + 1} of '{path}' has index {settings[i].Index}, not {i}. Plan the sweep again.");
        return settings;
    }

    /// <summary>Whether the setting trained to the end and its result is on disk.</summary>
    public static bool IsComplete(string dir, int index) => RunFolder.ReadResult(SettingFolder(dir, index)) is { Complete: true };
}
