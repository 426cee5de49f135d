using System.Text.Json;
using System.Text.Json.Nodes;

namespace ActScale.Tasks;

/// <summary>
/// Prompt templates for the generated tasks, keyed like <c>data/lists/templates.json</c>: <c>ccc_train</c>,
/// <c>ccc_test</c>, <c>ioi_train</c>, <c>ioi_test</c> (arrays of template strings) and optionally
/// <c>ioi_names_test</c> (names held out for IOI test prompts). Placeholders: {country} {capital}
/// {context_capital} for CCC; {A} (indirect object, the correct answer) {B} (subject) {place} {object} for IOI,
/// written in ABBA order ({A} is mentioned before {B}). Missing keys fall back to <see cref="BuiltIn"/>.
/// </summary>
public sealed record TemplateSet(
    IReadOnlyList<string> CccTrain,
    IReadOnlyList<string> CccTest,
    IReadOnlyList<string> IoiTrain,
    IReadOnlyList<string> IoiTest,
    IReadOnlyList<string> IoiNamesTest)
{
    /// <summary>Our own templates, used when no templates.json is present.</summary>
    public static TemplateSet BuiltIn { get; } = new(
        CccTrain:
        [
            "The capital of {country} is {context_capital}. Q: What is the capital of {country}? A:",
            "In this story, the capital of {country} is {context_capital}. The capital of {country} is",
        ],
        CccTest:
        [
            "Remember: {context_capital} is the capital of {country}. Q: Which city is the capital of {country}? A:",
        ],
        IoiTrain:
        [
            "When {A} and {B} went to the {place}, {B} gave a {object} to",
            "After {A} and {B} arrived at the {place}, {B} handed a {object} to",
        ],
        IoiTest:
        [
            "While {A} and {B} were at the {place}, {B} passed a {object} to",
        ],
        IoiNamesTest: []);

    /// <summary>Places and objects filled into IOI templates (single GPT-2 tokens with a leading space).</summary>
    public static IReadOnlyList<string> Places { get; } = ["store", "park", "school", "hospital", "beach", "restaurant", "office", "station"];
    public static IReadOnlyList<string> Objects { get; } = ["drink", "book", "ball", "gift", "letter", "key", "flower", "snack"];

    /// <summary>Reads a templates.json; keys it lacks come from <see cref="BuiltIn"/>.</summary>
    public static TemplateSet Read(string path)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                  ?? throw new TaskDataException($"'{path}' must hold one JSON object of template lists.");
        }
        catch (JsonException e)
        {
            throw new TaskDataException($"'{path}' is not valid JSON: {e.Message}");
        }
        IReadOnlyList<string> List(string key, IReadOnlyList<string> fallback)
        {
            if (obj[key] is not JsonArray array) return fallback;
            return array.Select(n => n?.GetValue<string>() ?? throw new TaskDataException($"'{path}': \"{key}\" must be an array of strings.")).ToArray();
        }
        var b = BuiltIn;
        return new TemplateSet(List("ccc_train", b.CccTrain), List("ccc_test", b.CccTest), List("ioi_train", b.IoiTrain),
            List("ioi_test", b.IoiTest), List("ioi_names_test", b.IoiNamesTest));
    }

    /// <summary>The file at <paramref name="path"/> when it exists, otherwise <see cref="BuiltIn"/>.</summary>
    public static TemplateSet ReadOrBuiltIn(string? path) => path is not null && File.Exists(path) ? Read(path) : BuiltIn;
}
