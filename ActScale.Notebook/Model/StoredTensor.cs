using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// One tensor of a checkpoint, known by shape before its bytes are read. Safetensors tensors are read from the
/// file only when <see cref="Load"/> is called, so a model is built one tensor at a time and the checkpoint is
/// never resident as a whole; pickled checkpoints arrive already loaded.
/// </summary>
public sealed class StoredTensor : IDisposable
{
    private readonly SafetensorsHeader.Entry? _entry;
    private Tensor? _loaded;

    private StoredTensor(string file, long[] shape, ScalarType dtype, SafetensorsHeader.Entry? entry, Tensor? loaded)
    {
        File = file;
        Shape = shape;
        DType = dtype;
        _entry = entry;
        _loaded = loaded;
    }

    public string File { get; }
    public long[] Shape { get; }
    public ScalarType DType { get; }
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>True when the bytes are still in the file, so they can be read into a buffer of the caller's.</summary>
    public bool InFile => _entry is not null;

    public static StoredTensor Loaded(Tensor tensor, string file) => new(file, tensor.shape, tensor.dtype, null, tensor);

    public static StoredTensor InSafetensors(string file, SafetensorsHeader.Entry entry) =>
        new(file, entry.Shape, DTypeOf(file, entry.Name, entry.DType), entry, null);

    /// <summary>The tensor on the CPU in its stored dtype; the caller owns it. Each tensor is loaded once.</summary>
    public Tensor Load()
    {
        if (_loaded is not null)
        {
            var handed = _loaded;
            _loaded = null;
            return handed;
        }
        if (_entry is null) throw new InvalidOperationException($"A tensor of '{File}' was loaded twice.");
        var tensor = empty(Shape, DType);
        try
        {
            ReadInto(tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
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

    /// <summary>
    /// Reads the stored bytes straight into <paramref name="destination"/>, a contiguous CPU tensor of this dtype
    /// and element count (safetensors is little-endian and row-major).
    /// </summary>
    public void ReadInto(Tensor destination)
    {
        var entry = _entry ?? throw new InvalidOperationException($"This tensor of '{File}' is not read from a file.");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Reading safetensors needs a little-endian machine.");
        if (destination.dtype != DType || destination.numel() != ElementCount || !destination.is_contiguous() || destination.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException($"A buffer for '{entry.Name}' must be a contiguous CPU {DType} tensor of {ElementCount} elements.");
        try
        {
            using var stream = new FileStream(File, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            stream.Seek(entry.Offset, SeekOrigin.Begin);
            // TorchSharp's `bytes` is a span over the tensor's own memory, so the file is read straight into it,
            // in slices of at most 1 GiB (a span holds under 2 GiB).
            using var flat = destination.view(-1);
            long elementSize = destination.ElementSize, elements = flat.shape[0];
            long perSlice = Math.Max(1, (1L << 30) / elementSize);
            for (long start = 0; start < elements; start += perSlice)
            {
                using var slice = flat.narrow(0, start, Math.Min(perSlice, elements - start));
                stream.ReadExactly(slice.bytes);
            }
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            throw new InvalidDataException($"Tensor '{entry.Name}' could not be read from '{File}': {e.Message}", e);
        }
    }
}
