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
        RegularFile.Require(configPath, "Config file");
        JsonObject raw;
        try
        {
            raw = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                  ?? throw new InvalidDataException("the top level is not a JSON object");
            _ = raw.Count; // a duplicated key surfaces here
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"'{configPath}' is not a valid config.json: {e.Message}", e);
        }
        var modelType = raw["model_type"] is JsonValue type && type.TryGetValue<string>(out var name) ? name
            : throw new InvalidDataException($"'{configPath}' has no \"model_type\" string; cannot tell which architecture it describes.");
        ModelConfig config;
        try
        {
            config = ArchitectureRegistry.Find(modelType, configPath).ReadConfig(raw, configPath);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ConfigValueException)
        {
            // A field of the wrong JSON type (a string where a number belongs, an object for a name).
            throw new InvalidDataException($"'{configPath}' has a value of the wrong type: {e.Message}. Use the config.json shipped with the weights.", e);
        }
        config.Validate(configPath);
        return config;
    }

    /// <summary>
    /// Every dimension positive and consistent, checked before any weight is read: a zero or negative size would
    /// otherwise surface as a division by zero, a native error at the first forward, or NaN predictions.
    /// </summary>
    private void Validate(string configPath)
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new InvalidDataException($"'{configPath}' is not a usable config: {what}. Use the config.json shipped with the weights.");
        }
        Require(LayerCount >= 1, $"the number of layers is {LayerCount}; it must be at least 1");
        Require(Width >= 1, $"the hidden width is {Width}; it must be positive");
        Require(HeadCount >= 1, $"the number of attention heads is {HeadCount}; it must be positive");
        Require(_headDim is not null || Width % HeadCount == 0, $"the hidden width {Width} is not divisible by the {HeadCount} attention heads");
        Require(HeadDim >= 1, $"the head width is {HeadDim}; it must be positive");
        Require(KeyValueHeadCount >= 1 && HeadCount % KeyValueHeadCount == 0,
            $"{HeadCount} attention heads cannot be shared among {KeyValueHeadCount} key/value heads");
        Require(ContextLength >= 1, $"the context length is {ContextLength}; it must be positive");
        Require(VocabularySize >= 1, $"vocab_size is {VocabularySize}; it must be positive");
        Require(double.IsFinite(NormEpsilon) && NormEpsilon > 0, $"the normalisation epsilon is {NormEpsilon}; it must be a small positive number such as 1e-5");
    }

    internal static int Int(JsonObject raw, string path, string key) =>
        OptionalInt(raw, key) ?? throw new InvalidDataException($"'{path}' lacks the integer \"{key}\".");

    internal static int? OptionalInt(JsonObject raw, string key) => Optional<int>(raw, key, "a whole number");

    internal static double? OptionalDouble(JsonObject raw, string key) => Optional<double>(raw, key, "a number");

    internal static bool? OptionalBool(JsonObject raw, string key) => Optional<bool>(raw, key, "true or false");

    internal static string? OptionalString(JsonObject raw, string key) =>
        raw[key] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var other => throw new ConfigValueException($"\"{key}\" must be a string, not {other.ToJsonString()}"),
        };

    /// <summary>An absent (or null) key is null; a present one of another type is an error, never a silent default.</summary>
    private static T? Optional<T>(JsonObject raw, string key, string kind) where T : struct =>
        raw[key] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<T>(out var value) => value,
            var other => throw new ConfigValueException($"\"{key}\" must be {kind}, not {other.ToJsonString()}"),
        };

    /// <summary>A config value of the wrong JSON type; <see cref="Read"/> adds the file's name.</summary>
    private sealed class ConfigValueException(string message) : Exception(message);

    public string ToJson() => Raw.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
