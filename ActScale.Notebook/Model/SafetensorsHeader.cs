using System.Text.Json;
using System.Text.Json.Nodes;

namespace ActScale.Model;

/// <summary>
/// Reads and checks a safetensors header before any tensor is materialised, so a truncated or corrupt file
/// fails with the file and the tensor named instead of a native error from deep inside the reader.
/// </summary>
public static class SafetensorsHeader
{
    private static readonly Dictionary<string, int> ElementSizes = new()
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>Tensor name → shape, after checking every entry fits inside the file.</summary>
    public static IReadOnlyDictionary<string, long[]> Validate(string path) => Entries(path).ToDictionary(e => e.Name, e => e.Shape);

    /// <summary>Where one tensor's bytes lie: <see cref="Offset"/> counts from the start of the file.</summary>
    public sealed record Entry(string Name, string DType, long[] Shape, long Offset, long Length);

    /// <summary>Every tensor of the file with its dtype, shape and byte range, after checking each fits inside the file.</summary>
    public static IReadOnlyList<Entry> Entries(string path)
    {
        RegularFile.Require(path, "Weights file");
        using var stream = File.OpenRead(path);
        long fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8)
            throw Corrupt(path, "it is shorter than the 8-byte header length");
        long headerLength = BitConverter.ToInt64(lengthBytes);
        if (headerLength <= 0 || headerLength > fileLength - 8 || headerLength > 100_000_000)
            throw Corrupt(path, $"its header length ({headerLength} bytes) does not fit in the file ({fileLength} bytes)");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes) as JsonObject ?? throw new JsonException("not an object");
            // A duplicated key or a name that is not UTF-8 only surfaces when the object is first enumerated.
            _ = header.Count;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw Corrupt(path, $"its header is not valid JSON ({e.Message})");
        }

        long dataLength = fileLength - 8 - headerLength;
        var entries = new List<Entry>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            try
            {
                entries.Add(ReadEntry(path, name, node, headerLength, dataLength));
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
            {
                throw Corrupt(path, $"tensor '{name}' has a malformed entry ({e.Message})");
            }
        }
        RefuseOverlaps(path, entries);
        return entries;
    }

    private static Entry ReadEntry(string path, string name, JsonNode? node, long headerLength, long dataLength)
    {
        var dtype = node?["dtype"]?.GetValue<string>() ?? throw Corrupt(path, $"tensor '{name}' has no dtype");
        if (!ElementSizes.TryGetValue(dtype, out int size))
            throw Corrupt(path, $"tensor '{name}' has unsupported dtype {dtype}");
        var shape = node["shape"]?.AsArray().Select(n => n!.GetValue<long>()).ToArray() ?? throw Corrupt(path, $"tensor '{name}' has no shape");
        if (shape.Any(d => d < 0)) throw Corrupt(path, $"tensor '{name}' has a negative dimension in shape [{string.Join(", ", shape)}]");
        var offsets = node["data_offsets"]?.AsArray().Select(n => n!.GetValue<long>()).ToArray();
        if (offsets is not { Length: 2 }) throw Corrupt(path, $"tensor '{name}' has no data_offsets");
        if (offsets[0] < 0 || offsets[1] < offsets[0])
            throw Corrupt(path, $"tensor '{name}' has data_offsets [{offsets[0]}, {offsets[1]}], which is not a byte range");
        long expected = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * size);
        if (offsets[1] - offsets[0] != expected)
            throw Corrupt(path, $"tensor '{name}' spans {offsets[1] - offsets[0]} bytes but shape [{string.Join(", ", shape)}] × {dtype} needs {expected}");
        if (offsets[1] > dataLength)
            throw Corrupt(path, $"tensor '{name}' ends at byte {offsets[1]} of the data but the file holds only {dataLength}: the file is truncated");
        return new Entry(name, dtype, shape, 8 + headerLength + offsets[0], expected);
    }

    /// <summary>Two tensors sharing bytes would load one's data as the other's; no writer produces that.</summary>
    private static void RefuseOverlaps(string path, List<Entry> entries)
    {
        var ordered = entries.Where(e => e.Length > 0).OrderBy(e => e.Offset).ToList();
        for (int i = 1; i < ordered.Count; i++)
            if (ordered[i].Offset < ordered[i - 1].Offset + ordered[i - 1].Length)
                throw Corrupt(path, $"tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap in the data (their data_offsets share bytes)");
    }

    private static InvalidDataException Corrupt(string path, string why) =>
        new($"'{path}' is not a readable safetensors file: {why}. Re-copy or re-save the checkpoint.");
}
