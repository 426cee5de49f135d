using System.Text.Json;
using System.Text.Json.Nodes;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ActScale.Persistence;

/// <summary>
/// Saves and loads <see cref="InterventionRun"/>s as two files: <c>{path}.safetensors</c> (one tensor, "parameters",
/// float32) and <c>{path}.json</c> (format version, method, sites, hyper-parameters, model identity, prompt length,
/// token labels, the parameters file's SHA-256). Both are written under temporary names and renamed, so a crash never
/// leaves a half-written file; a crash between the two renames leaves a pair whose hash does not match, which
/// <see cref="Load"/> refuses.
/// </summary>
public static class RunStore
{
    public const int FormatVersion = 1;
    private const string TensorKey = "parameters";

    /// <summary>Writes the run; returns the metadata file's path. <paramref name="path"/> may end in .json or .safetensors.</summary>
    public static string Save(InterventionRun run, string path)
    {
        var (json, weights) = Paths(path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(json));
        if (folder is not null) Directory.CreateDirectory(folder);
        var o = run.Options;
        var meta = new JsonObject
        {
            ["format_version"] = FormatVersion,
            ["name"] = run.Name,
            ["method"] = run.Method.ToString(),
            ["site_kinds"] = new JsonArray(run.SiteKinds.Select(k => (JsonNode)Site.KindName(k)).ToArray()),
            ["layer_count"] = run.LayerCount,
            ["width"] = run.Width,
            ["prompt_length"] = run.PromptLength,
            ["token_labels"] = new JsonArray(run.TokenLabels.Select(t => (JsonNode)t).ToArray()),
            ["model_identity"] = run.ModelIdentity,
            ["parameter_shape"] = new JsonArray(run.Parameters.shape.Select(d => (JsonNode)d).ToArray()),
            ["parameters_file"] = Path.GetFileName(weights),
            ["cancelled"] = run.Cancelled,
            ["steps_completed"] = run.StepsCompleted,
            ["training_seconds"] = run.TrainingTime.TotalSeconds,
            ["options"] = new JsonObject
            {
                ["learning_rate"] = o.LearningRate, ["steps"] = o.Steps, ["batch_size"] = o.BatchSize, ["seed"] = o.Seed,
                ["margin"] = o.Loss.Margin, ["lambda_f"] = o.Loss.LambdaF, ["lambda_m"] = o.Loss.LambdaM, ["l1"] = o.Loss.L1.ToString(),
                ["report_every"] = o.ReportEvery,
            },
            ["saved_utc"] = DateTime.UtcNow.ToString("O"),
        };
        var tempWeights = weights + ".tmp";
        var tempJson = json + ".tmp";
        try
        {
            using (var cpuCopy = run.Parameters.detach().to(ScalarType.Float32, CPU, copy: true).contiguous())
                Safetensors.SaveStateDict(tempWeights, new Dictionary<string, Tensor> { [TensorKey] = cpuCopy });
            // The metadata records the parameters file's hash, so a pair left mismatched (a crash between the two
            // renames below) is refused on load instead of silently pairing new parameters with old settings.
            meta["parameters_sha256"] = Sha256(tempWeights);
            BeforeRename?.Invoke(tempJson);
            File.WriteAllText(tempJson, meta.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        catch
        {
            // Nothing under the final names was touched; leave no temporary files behind either.
            TryDelete(tempWeights);
            TryDelete(tempJson);
            throw;
        }
        File.Move(tempWeights, weights, overwrite: true);
        File.Move(tempJson, json, overwrite: true);
        return json;
    }

    /// <summary>
    /// Loads a run for <paramref name="model"/>, its parameters on the model's device. Refuses a run saved for another
    /// model (naming both identities) or by a newer format version.
    /// </summary>
    public static InterventionRun Load(string path, LanguageModel model)
    {
        var (json, _) = Paths(path);
        if (!File.Exists(json)) throw new FileNotFoundException($"No saved run at '{json}'.", json);
        JsonObject meta;
        try
        {
            meta = JsonNode.Parse(File.ReadAllText(json)) as JsonObject ?? throw new InvalidDataException("not a JSON object");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"'{json}' is not a saved ActScale run: {e.Message}", e);
        }
        T Get<T>(string key) => meta[key] is JsonNode n ? n.GetValue<T>() : throw new InvalidDataException($"'{json}' lacks \"{key}\".");
        int version = Get<int>("format_version");
        if (version > FormatVersion)
            throw new InvalidDataException($"'{json}' was saved in run format {version}, but this ActScale reads formats up to {FormatVersion}. Update ActScale.");
        var identity = Get<string>("model_identity");
        if (identity != model.Identity)
            throw new InvalidOperationException($"The run in '{json}' was trained on model '{identity}', but the model given is '{model.Identity}'. " +
                                                "Load the model it was trained on.");
        var method = InterventionRegistry.Get(Get<string>("method"));
        var kinds = meta["site_kinds"]!.AsArray().Select(n => Site.ParseKind(n!.GetValue<string>())).ToArray();
        var opts = meta["options"] as JsonObject ?? new JsonObject();
        var d = new TrainingOptions { Method = method };
        double D(string k, double fallback) => opts[k]?.GetValue<double>() ?? fallback;
        int I(string k, int fallback) => opts[k]?.GetValue<int>() ?? fallback;
        var options = d with
        {
            SiteKinds = kinds, LearningRate = D("learning_rate", d.LearningRate), Steps = I("steps", d.Steps), BatchSize = I("batch_size", d.BatchSize),
            Seed = I("seed", d.Seed), ReportEvery = I("report_every", d.ReportEvery),
            Loss = new LossSettings
            {
                Margin = D("margin", d.Loss.Margin), LambdaF = D("lambda_f", d.Loss.LambdaF), LambdaM = D("lambda_m", d.Loss.LambdaM),
                L1 = opts["l1"] is JsonNode l1 ? Enum.Parse<L1Reduction>(l1.GetValue<string>()) : d.Loss.L1,
            },
        };
        var weights = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(json))!, Get<string>("parameters_file"));
        if (!File.Exists(weights)) throw new FileNotFoundException($"'{json}' names parameters file '{weights}', which is missing.", weights);
        if (meta["parameters_sha256"] is JsonNode recorded && recorded.GetValue<string>() != Sha256(weights))
            throw new InvalidDataException($"'{weights}' does not match '{json}' (its hash differs from the one saved with it): the save was " +
                                           "interrupted or the files were mixed up. Save the run again.");
        var state = Safetensors.LoadStateDict(weights);
        try
        {
            if (!state.TryGetValue(TensorKey, out var stored))
                throw new InvalidDataException($"'{weights}' has no \"{TensorKey}\" tensor.");
            var parameters = stored.to(ScalarType.Float32, model.Device, copy: true);
            int? promptLength = meta["prompt_length"] is JsonNode p ? p.GetValue<int>() : null;
            return new InterventionRun(Get<string>("name"), options, identity, Get<int>("layer_count"), Get<int>("width"), promptLength,
                meta["token_labels"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray(), parameters, Get<bool>("cancelled"),
                Get<int>("steps_completed"), TimeSpan.FromSeconds(Get<double>("training_seconds")));
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    /// <summary>Test seam: runs after the parameters' temporary file is written, before the metadata; may throw.</summary>
    internal static Action<string>? BeforeRename { get; set; }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static (string Json, string Weights) Paths(string path)
    {
        var stem = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? path[..^5]
            : path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? path[..^12] : path;
        return (stem + ".json", stem + ".safetensors");
    }
}
