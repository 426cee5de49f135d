using System.Collections;
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
        if (File.Exists(single)) return ReadSafetensors([single]);
        if (File.Exists(index)) return ReadSafetensors(ShardsOf(index));
        if (File.Exists(pickle)) return ReadPickle(pickle);
        throw new FileNotFoundException(
            $"No weights in '{folder}': expected model.safetensors, model.safetensors.index.json with its shards, or pytorch_model.bin.");
    }

    private static string[] ShardsOf(string indexPath)
    {
        var map = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"] as JsonObject
                  ?? throw new InvalidDataException($"'{indexPath}' has no \"weight_map\".");
        var folder = Path.GetDirectoryName(indexPath)!;
        var shards = map.Select(kv => Path.Combine(folder, kv.Value!.GetValue<string>())).Distinct().ToArray();
        var missing = shards.FirstOrDefault(s => !File.Exists(s));
        if (missing is not null) throw new FileNotFoundException($"'{indexPath}' names shard '{missing}', which is missing.", missing);
        return shards;
    }

    private static Dictionary<string, StoredTensor> ReadSafetensors(IEnumerable<string> files)
    {
        var result = new Dictionary<string, StoredTensor>();
        foreach (var file in files)
            foreach (var entry in SafetensorsHeader.Entries(file))
                result[entry.Name] = StoredTensor.InSafetensors(file, entry);
        return result;
    }

    private static Dictionary<string, StoredTensor> ReadPickle(string file)
    {
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
