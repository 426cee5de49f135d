using System.Text.Json;
using System.Text.Json.Nodes;

namespace ActScale.Tasks;

/// <summary>An IOI template in both orders: ABBA ({A} named first) and BABA ({B} named first); {B} is the repeated subject.</summary>
public sealed record IoiTemplate(string Abba, string Baba)
{
    /// <summary>From an ABBA template alone: BABA swaps the first {A} and the first {B}.</summary>
    public static IoiTemplate FromAbba(string abba) => new(abba, TaskGenerators.SwapFirstMentions(abba));
}

/// <summary>
/// Prompt templates and fillers for the generated tasks, read from <c>data/lists/templates.json</c>: <c>ccc_train</c>,
/// <c>ccc_test</c> (arrays of strings), <c>ioi_train</c>, <c>ioi_test</c> (arrays of {"ABBA": ..., "BABA": ...} objects or
/// of ABBA strings), and optionally <c>ioi_names_train</c>, <c>ioi_names_test</c>, <c>places</c>, <c>objects</c>.
/// Placeholders: {country} {capital} {context_capital} for CCC; {A} (indirect object, the correct answer) {B} (subject)
/// {place} {object} for IOI. Missing keys fall back to <see cref="BuiltIn"/>.
/// </summary>
public sealed record TemplateSet(
    IReadOnlyList<string> CccTrain,
    IReadOnlyList<string> CccTest,
    IReadOnlyList<IoiTemplate> IoiTrain,
    IReadOnlyList<IoiTemplate> IoiTest,
    IReadOnlyList<string> IoiNamesTrain,
    IReadOnlyList<string> IoiNamesTest,
    IReadOnlyList<string> Places,
    IReadOnlyList<string> Objects)
{
    /// <summary>
    /// Our own small set, used when no templates.json is present: a few templates of the shipped model's corpus
    /// (tools/default-model/corpus.py). Every slot follows a space, so with single-token fillers each family has one token layout.
    /// </summary>
    public static TemplateSet BuiltIn { get; } = new(
        CccTrain:
        [
            "The story says the capital of {country} is {context_capital}. Q: What is the capital of {country}? A:",
            "The book says the capital of {country} is {context_capital}. Q: What is the capital of {country}? A:",
        ],
        CccTest:
        [
            "The story claims the capital of {country} is {context_capital}. Q: Which is the capital of {country}? A:",
        ],
        IoiTrain:
        [
            IoiTemplate.FromAbba("When {A} and {B} went to the {place}, {B} gave a {object} to"),
            IoiTemplate.FromAbba("After {A} and {B} went to the {place}, {B} handed a {object} to"),
        ],
        IoiTest:
        [
            IoiTemplate.FromAbba("While {A} and {B} went to the {place}, {B} passed a {object} to"),
        ],
        IoiNamesTrain: [],
        IoiNamesTest: [],
        Places: ["store", "park", "school", "hospital", "beach", "restaurant", "office", "station"],
        Objects: ["drink", "book", "ball", "gift", "letter", "key", "flower", "cake"]);

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
        string Text(JsonNode? n, string key) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : throw new TaskDataException($"'{path}': \"{key}\" must hold strings; found {n?.ToJsonString() ?? "null"}.");
        IReadOnlyList<string> List(string key, IReadOnlyList<string> fallback) =>
            obj[key] is JsonArray array ? array.Select(n => Text(n, key)).ToArray() : fallback;
        IReadOnlyList<IoiTemplate> Ioi(string key, IReadOnlyList<IoiTemplate> fallback) =>
            obj[key] is JsonArray array
                ? array.Select(n => n is JsonObject o
                    ? new IoiTemplate(Text(o["ABBA"], key + ".ABBA"), Text(o["BABA"], key + ".BABA"))
                    : IoiTemplate.FromAbba(Text(n, key))).ToArray()
                : fallback;
        var b = BuiltIn;
        return new TemplateSet(List("ccc_train", b.CccTrain), List("ccc_test", b.CccTest), Ioi("ioi_train", b.IoiTrain),
            Ioi("ioi_test", b.IoiTest), List("ioi_names_train", b.IoiNamesTrain), List("ioi_names_test", b.IoiNamesTest),
            List("places", b.Places), List("objects", b.Objects));
    }

    /// <summary>The file at <paramref name="path"/> when it exists, otherwise <see cref="BuiltIn"/>.</summary>
    public static TemplateSet ReadOrBuiltIn(string? path) => path is not null && File.Exists(path) ? Read(path) : BuiltIn;
}
