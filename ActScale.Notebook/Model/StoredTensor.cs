using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// One tensor of a checkpoint, known by shape before its bytes are read. Safetensors tensors are read from the
/// file only when <see cref="Load"/> is called, so a model is built one tensor at a time and the checkpoint is
/// never resident as a whole; pickled checkpoints arrive already loaded.
/// </summary>
public sealed class StoredTensor : IDisposable
{
    private readonly Func<Tensor>? _read;
    private Tensor? _loaded;

    private StoredTensor(string file, long[] shape, Func<Tensor>? read, Tensor? loaded)
    {
        File = file;
        Shape = shape;
        _read = read;
        _loaded = loaded;
    }

    public string File { get; }
    public long[] Shape { get; }

    public static StoredTensor Loaded(Tensor tensor, string file) => new(file, tensor.shape, null, tensor);

    public static StoredTensor InSafetensors(string file, SafetensorsHeader.Entry entry) =>
        new(file, entry.Shape, () => ReadSafetensors(file, entry), null);

    /// <summary>The tensor on the CPU in its stored dtype; the caller owns it. Each tensor is loaded once.</summary>
    public Tensor Load()
    {
        if (_loaded is not null)
        {
            var tensor = _loaded;
            _loaded = null;
            return tensor;
        }
        return _read?.Invoke() ?? throw new InvalidOperationException($"A tensor of '{File}' was loaded twice.");
    }

    public void Dispose()
    {
        _loaded?.Dispose();
        _loaded = null;
    }

    private static ScalarType DTypeOf(string file, string name, string dtype) => dtype switch
    {
        "F64" => ScalarType.Float64, "F32" => ScalarType.Float32, "F16" => ScalarType.Float16, "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64, "I32" => ScalarType.Int32, "I16" => ScalarType.Int16, "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte, "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"Tensor '{name}' in '{file}' has unsupported dtype {dtype}."),
    };

    /// <summary>Reads the tensor's bytes straight into a fresh CPU tensor (safetensors is little-endian and row-major).</summary>
    private static Tensor ReadSafetensors(string file, SafetensorsHeader.Entry entry)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Reading safetensors needs a little-endian machine.");
        var tensor = empty(entry.Shape, DTypeOf(file, entry.Name, entry.DType));
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            stream.Seek(entry.Offset, SeekOrigin.Begin);
            // TorchSharp's `bytes` is a span over the tensor's own memory, so the file is read straight into it,
            // in slices of at most 1 GiB (a span holds under 2 GiB).
            using var flat = tensor.view(-1);
            long elementSize = tensor.ElementSize, elements = flat.shape[0];
            long perSlice = Math.Max(1, (1L << 30) / elementSize);
            for (long start = 0; start < elements; start += perSlice)
            {
                using var slice = flat.narrow(0, start, Math.Min(perSlice, elements - start));
                stream.ReadExactly(slice.bytes);
            }
            return tensor;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            tensor.Dispose();
            throw new InvalidDataException($"Tensor '{entry.Name}' could not be read from '{file}': {e.Message}", e);
        }
    }
}
