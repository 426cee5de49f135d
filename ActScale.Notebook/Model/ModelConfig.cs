using System.Text.Json;
using System.Text.Json.Nodes;

namespace ActScale.Model;

/// <summary>
/// The shape of a decoder-only transformer, read from a Hugging Face <c>config.json</c>. Field names follow the
/// family's own config; <see cref="Raw"/> keeps the whole file for family-specific settings.
/// </summary>
public sealed record ModelConfig(
    string ModelType,
    int LayerCount,
    int Width,
    int HeadCount,
    int ContextLength,
    int VocabularySize,
    double NormEpsilon,
    string Activation,
    JsonObject Raw)
{
    private readonly int? _keyValueHeadCount;
    private readonly int? _headDim;

    /// <summary>Key/value heads; fewer than <see cref="HeadCount"/> means grouped-query attention.</summary>
    public int KeyValueHeadCount { get => _keyValueHeadCount ?? HeadCount; init => _keyValueHeadCount = value; }

    /// <summary>Why <see cref="ContextLength"/> is shorter than the checkpoint's own context, when it is.</summary>
    public string? ContextLimit { get; init; }

    /// <summary>Width of one head: <c>head_dim</c> where a config gives it, otherwise width / heads.</summary>
    public int HeadDim { get => _headDim ?? Width / HeadCount; init => _headDim = value; }

    public static ModelConfig Read(string configPath)
    {
        if (!File.Exists(configPath))
            throw new FileNotFoundException(
                $"No config.json in '{Path.GetDirectoryName(configPath)}'. A model folder needs config.json, the weights " +
                "(model.safetensors or pytorch_model.bin) and the tokenizer files.", configPath);
        JsonObject raw;
        try
        {
            raw = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                  ?? throw new InvalidDataException("the top level is not a JSON object");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"'{configPath}' is not a valid config.json: {e.Message}", e);
        }
        var modelType = raw["model_type"]?.GetValue<string>()
            ?? throw new InvalidDataException($"'{configPath}' has no \"model_type\"; cannot tell which architecture it describes.");
        return ArchitectureRegistry.Find(modelType, configPath).ReadConfig(raw, configPath);
    }

    internal static int Int(JsonObject raw, string path, string key) =>
        OptionalInt(raw, key) ?? throw new InvalidDataException($"'{path}' lacks the integer \"{key}\".");

    internal static int? OptionalInt(JsonObject raw, string key) =>
        raw[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;

    internal static double? OptionalDouble(JsonObject raw, string key) =>
        raw[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    internal static bool? OptionalBool(JsonObject raw, string key) =>
        raw[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    internal static string? OptionalString(JsonObject raw, string key) =>
        raw[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public string ToJson() => Raw.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
