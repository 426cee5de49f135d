using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Runtime;
using ActScale.Objective;
using ActScale.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ActScale.Persistence;

// Over 200 lines: writing, sealing, verifying and reading both formats (the one-file format and format-1 pairs) must agree byte for byte, so they sit together.

/// <summary>
/// Saves and loads <see cref="InterventionRun"/>s. A run is ONE file, <c>{path}.json</c>: format version, method, sites,
/// hyper-parameters, model identity, prompt length, token labels and the parameters themselves (float32, little-endian,
/// base64), sealed by a SHA-256 of all of it. One file because the settings and the parameters must change together:
/// one file is replaced by one rename, which is atomic, so a reader or a crash sees the previous run or the new one,
/// never a mix (the two-file pair it replaces could not be swapped atomically). Parameters are per-site scalars or
/// vectors, small enough to inline. Loading reads the file once and checks the hash on the bytes it read, so an edit to
/// any setting (say, <c>site_kinds</c>) is refused instead of applying the scalars to other sites. Runs saved in format 1
/// (<c>.json</c> beside <c>.safetensors</c>) still load.
/// </summary>
public static class RunStore
{
    public const int FormatVersion = 2;
    private const int PairFormatVersion = 1;
    private const string TensorKey = "parameters";
    private const string HashKey = "content_sha256";

    /// <summary>Writes the run; returns the file's path. <paramref name="path"/> may end in .json or .safetensors.</summary>
    public static string Save(InterventionRun run, string path)
    {
        var (json, legacyWeights) = Paths(path);
        CreateFolderFor(json);
        var meta = Describe(run);
        meta[HashKey] = ContentHash(meta);
        var text = meta.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

        AtomicFile.WriteAllText(json, text);
        // A format-1 save at this path left its parameters beside the metadata just replaced; they now belong to nothing.
        AtomicFile.TryDelete(legacyWeights);
        return json;
    }

    private static JsonObject Describe(InterventionRun run)
    {
        var o = run.Options;
        using var cpu = run.Parameters.detach().to(ScalarType.Float32, CPU, copy: true).contiguous();
        var values = cpu.data<float>().ToArray();
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length); // little-endian on every platform .NET and libtorch share
        return new JsonObject
        {
            ["format_version"] = FormatVersion,
            ["name"] = run.Name,
            ["method"] = run.Method.ToString(),
            ["site_kinds"] = new JsonArray(run.SiteKinds.Select(k => (JsonNode)Site.KindName(k)).ToArray()),
            ["layer_count"] = run.LayerCount,
            ["width"] = run.Width,
            ["head_count"] = run.Layout.HeadCount,
            ["prompt_length"] = run.PromptLength,
            ["token_labels"] = new JsonArray(run.TokenLabels.Select(t => (JsonNode)t).ToArray()),
            ["model_identity"] = run.ModelIdentity,
            ["parameter_shape"] = new JsonArray(run.Parameters.shape.Select(d => (JsonNode)d).ToArray()),
            ["parameters_float32_base64"] = Convert.ToBase64String(bytes),
            ["cancelled"] = run.Cancelled,
            ["steps_completed"] = run.StepsCompleted,
            ["training_seconds"] = run.TrainingTime.TotalSeconds,
            ["options"] = new JsonObject
            {
                ["learning_rate"] = o.LearningRate, ["steps"] = o.Steps, ["batch_size"] = o.BatchSize, ["seed"] = o.Seed,
                ["margin"] = o.Loss.Margin, ["lambda_f"] = o.Loss.LambdaF, ["lambda_m"] = o.Loss.LambdaM, ["l1"] = o.Loss.L1.ToString(),
                ["report_every"] = o.ReportEvery, ["first_position"] = o.FirstPosition,
            },
            ["saved_utc"] = DateTime.UtcNow.ToString("O"),
        };
    }

    /// <summary>SHA-256 of the metadata without its hash, in compact JSON (the form a parse and re-serialisation reproduces).</summary>
    private static string ContentHash(JsonObject meta)
    {
        var unsealed = meta.DeepClone().AsObject();
        unsealed.Remove(HashKey);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(unsealed.ToJsonString()))).ToLowerInvariant();
    }

    /// <summary>
    /// SHA-256 of a saved run's float32 parameters, read and verified like <see cref="Load"/> but without a model: two runs
    /// with equal hashes hold bit-identical parameters, whatever their timings or names.
    /// </summary>
    public static string ParametersSha256(string path)
    {
        var (json, meta, version) = ReadVerified(path);
        using var scope = NewDisposeScope();
        var stored = version >= FormatVersion ? InlineParameters(json, meta) : PairedParameters(json, meta);
        var values = stored.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
    }

    /// <summary>Reads a saved run's metadata once and checks its format version and seal.</summary>
    private static (string Json, JsonObject Meta, int Version) ReadVerified(string path)
    {
        var (json, _) = Paths(path);
        if (!File.Exists(json)) throw new FileNotFoundException($"No saved run at '{json}'.", json);
        RegularFile.Require(json, "Saved run");
        var bytes = File.ReadAllBytes(json); // the only read: everything below checks and uses these bytes
        JsonObject meta;
        try
        {
            meta = JsonNode.Parse(bytes) as JsonObject ?? throw new InvalidDataException("the top level is not a JSON object");
            _ = meta.Count; // a duplicated key surfaces here
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidDataException)
        {
            throw NotARun(json, e.Message, e);
        }
        int version = meta["format_version"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : throw NotARun(json, "it has no whole-number \"format_version\"", null);
        if (version > FormatVersion)
            throw new InvalidDataException($"'{json}' was saved in run format {version}, but this ActScale reads formats up to {FormatVersion}. Update ActScale.");
        if (version >= FormatVersion && (meta[HashKey] is JsonValue h && h.TryGetValue<string>(out var hash) ? hash : "") != ContentHash(meta))
            throw new InvalidDataException($"'{json}' was changed after it was saved (its content hash differs): a setting or the parameters were edited, " +
                                           "or the file is damaged. Settings and parameters only make sense together; save the run again.");
        return (json, meta, version);
    }

    /// <summary>
    /// Loads a run for <paramref name="model"/>, its parameters on the model's device. Refuses a run saved for another
    /// model (naming both identities), by a newer format version, changed after saving, or with non-finite parameters.
    /// </summary>
    public static InterventionRun Load(string path, LanguageModel model)
    {
        var (json, meta, version) = ReadVerified(path);
        var identity = meta["model_identity"] is JsonValue m && m.TryGetValue<string>(out var id) ? id : throw NotARun(json, "it has no \"model_identity\"", null);
        if (identity != model.Identity)
            throw new InvalidOperationException($"The run in '{json}' was trained on model '{identity}', but the model given is '{model.Identity}'. " +
                                                "Load the model it was trained on.");
        try
        {
            return Read(json, meta, version, identity, model);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
        {
            // A field of the wrong type or an unknown name: the message says which.
            throw NotARun(json, e.Message, e);
        }
    }

    private static InterventionRun Read(string json, JsonObject meta, int version, string identity, LanguageModel model)
    {
        T Get<T>(string key) => meta[key] is JsonNode n ? n.GetValue<T>() : throw new InvalidDataException($"'{json}' lacks \"{key}\".");
        var method = InterventionRegistry.Get(Get<string>("method"));
        var kinds = (meta["site_kinds"] as JsonArray ?? throw new InvalidDataException($"'{json}' lacks \"site_kinds\"."))
            .Select(n => Site.ParseKind(n!.GetValue<string>())).ToArray();
        var opts = meta["options"] as JsonObject ?? new JsonObject();
        var d = new TrainingOptions { Method = method };
        double D(string k, double fallback) => opts[k]?.GetValue<double>() ?? fallback;
        int I(string k, int fallback) => opts[k]?.GetValue<int>() ?? fallback;
        var options = d with
        {
            SiteKinds = kinds, LearningRate = D("learning_rate", d.LearningRate), Steps = I("steps", d.Steps), BatchSize = I("batch_size", d.BatchSize),
            Seed = I("seed", d.Seed), ReportEvery = I("report_every", d.ReportEvery),
            FirstPosition = I("first_position", 0), // runs saved before FirstPosition existed intervened from position 0 on
            Loss = new LossSettings
            {
                Margin = D("margin", d.Loss.Margin), LambdaF = D("lambda_f", d.Loss.LambdaF), LambdaM = D("lambda_m", d.Loss.LambdaM),
                L1 = opts["l1"] is JsonNode l1 ? ParseName<L1Reduction>(l1.GetValue<string>(), "options.l1") : d.Loss.L1,
            },
        };
        using var stored = version >= FormatVersion ? InlineParameters(json, meta) : PairedParameters(json, meta);
        RefuseNonFinite(json, stored);
        var parameters = stored.to(ScalarType.Float32, model.Device, copy: true);
        int? promptLength = meta["prompt_length"] is JsonNode p ? p.GetValue<int>() : null;
        try
        {
            return new InterventionRun(Get<string>("name"), options, identity, Get<int>("layer_count"), Get<int>("width"), promptLength,
                (meta["token_labels"] as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToArray(), parameters, Get<bool>("cancelled"),
                Get<int>("steps_completed"), TimeSpan.FromSeconds(Get<double>("training_seconds")),
                headCount: meta["head_count"] is JsonNode heads ? heads.GetValue<int>() : 1); // runs saved before per-head scalars are whole-vector
        }
        catch
        {
            parameters.Dispose();
            throw;
        }
    }

    private static Tensor InlineParameters(string json, JsonObject meta)
    {
        var shape = (meta["parameter_shape"] as JsonArray ?? throw new InvalidDataException($"'{json}' lacks \"parameter_shape\"."))
            .Select(n => n!.GetValue<long>()).ToArray();
        var bytes = Convert.FromBase64String(meta["parameters_float32_base64"]?.GetValue<string>()
                                             ?? throw new InvalidDataException($"'{json}' lacks \"parameters_float32_base64\"."));
        if (shape.Any(s => s < 0) || bytes.Length != shape.Aggregate(1L, (a, b) => a * b) * sizeof(float))
            throw new InvalidDataException($"'{json}' holds {bytes.Length} parameter bytes, which do not fill shape [{string.Join(", ", shape)}].");
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values, shape);
    }

    /// <summary>Format 1: parameters in a .safetensors beside the metadata, read once and checked against the recorded hash.</summary>
    private static Tensor PairedParameters(string json, JsonObject meta)
    {
        var weights = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(json))!, meta["parameters_file"]?.GetValue<string>() ?? throw new InvalidDataException($"'{json}' lacks \"parameters_file\"."));
        if (!File.Exists(weights)) throw new FileNotFoundException($"'{json}' names parameters file '{weights}', which is missing.", weights);
        RegularFile.Require(weights, "Saved parameters");
        var bytes = File.ReadAllBytes(weights);
        if (meta["parameters_sha256"] is JsonNode recorded && recorded.GetValue<string>() != Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant())
            throw new InvalidDataException($"'{weights}' does not match '{json}' (its hash differs from the one saved with it): the save was " +
                                           "interrupted or the files were mixed up. Save the run again.");
        var state = Safetensors.LoadStateDict(new MemoryStream(bytes));
        try
        {
            return state.Remove(TensorKey, out var stored) ? stored : throw new InvalidDataException($"'{weights}' has no \"{TensorKey}\" tensor.");
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    private static void RefuseNonFinite(string json, Tensor parameters)
    {
        using var finite = isfinite(parameters).all();
        if (!finite.item<bool>())
            throw new InvalidDataException($"'{json}' holds NaN or infinite parameters; applying them would make every prediction NaN. " +
                                           "Train the run again (with a smaller --lr if it diverged).");
    }

    private static T ParseName<T>(string name, string key) where T : struct, Enum =>
        Enum.TryParse<T>(name, ignoreCase: false, out var value) && Enum.IsDefined(value)
            ? value
            : throw new FormatException($"\"{key}\" is '{name}'; expected one of {string.Join(", ", Enum.GetNames<T>())}");

    private static InvalidDataException NotARun(string json, string why, Exception? inner) =>
        new($"'{json}' is not a saved ActScale run: {why}. Save the run again.", inner);


    /// <summary>Creates the folder of <paramref name="file"/>, saying which part of the path is a file when one is in the way.</summary>
    private static void CreateFolderFor(string file)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(file));
        if (folder is null) return;
        for (var part = folder; part is not null; part = Path.GetDirectoryName(part))
            if (File.Exists(part))
                throw new IOException($"Cannot save to '{file}': '{part}' is a file, not a folder. Choose a path whose folders are folders.");
        if (Directory.Exists(file))
            throw new IOException($"Cannot save to '{file}': it is a folder. Give a file name, e.g. '{Path.Combine(file, "run.json")}'.");
        Directory.CreateDirectory(folder);
    }

    private static (string Json, string Weights) Paths(string path)
    {
        var stem = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? path[..^5]
            : path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? path[..^12] : path;
        return (stem + ".json", stem + ".safetensors");
    }
}
