using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// Finds and reads a Hugging Face checkpoint's weights: <c>model.safetensors</c>, a sharded set named by
/// <c>model.safetensors.index.json</c>, or <c>pytorch_model.bin</c> as a fallback. Tensors come back on the CPU
/// in their stored dtype; <see cref="WeightTable"/> moves each to its target as it is taken. Safetensors
/// tensors (single file or every shard) are only indexed here and read one at a time as they are taken.
/// </summary>
public static class CheckpointReader
{
    public static Dictionary<string, StoredTensor> Read(string folder)
    {
        var single = Path.Combine(folder, "model.safetensors");
        var index = Path.Combine(folder, "model.safetensors.index.json");
        var pickle = Path.Combine(folder, "pytorch_model.bin");
        if (File.Exists(single)) return ReadSafetensors(single);
        if (File.Exists(index)) return ReadShards(index);
        if (File.Exists(pickle)) return ReadPickle(pickle);
        throw new FileNotFoundException(
            $"No weights in '{folder}': expected model.safetensors, model.safetensors.index.json with its shards, or pytorch_model.bin.");
    }

    private static Dictionary<string, StoredTensor> ReadSafetensors(string file) =>
        SafetensorsHeader.Entries(file).ToDictionary(e => e.Name, e => StoredTensor.InSafetensors(file, e));

    /// <summary>
    /// The index's weight_map decides which shard each tensor comes from: a copy of it in another shard is ignored,
    /// and a tensor its named shard lacks, or one no entry of the map names, is refused by name.
    /// </summary>
    private static Dictionary<string, StoredTensor> ReadShards(string indexPath)
    {
        var map = WeightMap(indexPath);
        var folder = Path.GetDirectoryName(indexPath)!;
        var result = new Dictionary<string, StoredTensor>();
        foreach (var shard in map.Values.Distinct())
        {
            var file = Path.Combine(folder, shard);
            if (!File.Exists(file)) throw new FileNotFoundException($"'{indexPath}' names shard '{file}', which is missing.", file);
            foreach (var entry in SafetensorsHeader.Entries(file))
            {
                if (!map.TryGetValue(entry.Name, out var assigned))
                    throw new InvalidDataException(
                        $"Shard '{file}' holds tensor '{entry.Name}', which '{indexPath}' does not list; the index and the shards do not belong together.");
                if (assigned == shard) result[entry.Name] = StoredTensor.InSafetensors(file, entry);
            }
        }
        var absent = map.Keys.FirstOrDefault(name => !result.ContainsKey(name));
        if (absent is not null)
            throw new InvalidDataException($"'{indexPath}' puts tensor '{absent}' in shard '{map[absent]}', which does not hold it. Re-copy the checkpoint.");
        return result;
    }

    private static Dictionary<string, string> WeightMap(string indexPath)
    {
        RegularFile.Require(indexPath, "Shard index");
        try
        {
            var map = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"] as JsonObject
                      ?? throw new InvalidDataException("it has no \"weight_map\" object");
            return map.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() is { Length: > 0 } shard && Path.GetFileName(shard) == shard
                ? shard
                : throw new InvalidDataException($"its weight_map gives tensor '{kv.Key}' the shard {kv.Value?.ToJsonString() ?? "null"}, not a file name"));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"'{indexPath}' is not a usable shard index: {e.Message}. Re-copy model.safetensors.index.json.", e);
        }
    }

    private static Dictionary<string, StoredTensor> ReadPickle(string file)
    {
        RegularFile.Require(file, "Weights file");
        Hashtable table;
        try
        {
            table = RestrictedUnpickler.ReadStateDict(file);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or UnsafePickleException))
        {
            throw new InvalidDataException($"'{file}' could not be read as a PyTorch checkpoint: {e.Message}", e);
        }
        var result = new Dictionary<string, StoredTensor>();
        foreach (DictionaryEntry entry in table)
            if (entry.Value is Tensor tensor) result[(string)entry.Key] = StoredTensor.Loaded(tensor, file);
        return result;
    }
}
