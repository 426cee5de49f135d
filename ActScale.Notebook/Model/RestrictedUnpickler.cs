using System.Collections;
using System.IO.Compression;
using TorchSharp.PyBridge;

namespace ActScale.Model;

/// <summary>Raised when a pickle names a Python callable outside the state-dict allow-list.</summary>
public sealed class UnsafePickleException(string message) : IOException(message);

/// <summary>
/// Reads a <c>pytorch_model.bin</c> only after walking its pickle opcodes and checking that every global it
/// would import is one a plain state dict needs (tensor rebuilders, storages, OrderedDict). A pickle that names
/// anything else (os.system, builtins.eval, ...) is refused before any of it is interpreted.
/// </summary>
public static class RestrictedUnpickler
{
    private static readonly HashSet<string> AllowedGlobals =
    [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage", "torch.LongStorage",
        "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage",
    ];

    /// <summary>
    /// torch.save stores its entries uncompressed, so a real checkpoint decompresses to about its own size; a zip whose
    /// directory declares more than this many times the file's size is a zip bomb, refused before anything is inflated.
    /// </summary>
    internal const int MaxExpansion = 100;

    /// <summary>A state dict's pickle holds names and shapes only: kilobytes, or a few megabytes for the largest models.</summary>
    internal const long MaxPickleBytes = 256L << 20;

    public static Hashtable ReadStateDict(string path)
    {
        using (var archive = OpenArchive(path))
        {
            RefuseZipBomb(path, archive);
            var pickle = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                         ?? throw new InvalidDataException($"'{path}' has no data.pkl; it is not a PyTorch checkpoint.");
            var (storages, tensors) = PickleMachine.Run(ReadDeclared(path, pickle), global =>
            {
                if (!AllowedGlobals.Contains(global))
                    throw new UnsafePickleException(
                        $"'{path}' asks to import '{global}', which a plain state dict never needs; refusing to load it. " +
                        "Convert the checkpoint to model.safetensors with a trusted tool.");
            });
            RefuseUnbackedTensors(path, archive, storages, tensors);
        }
        return PyTorchUnpickler.UnpickleStateDict(path);
    }

    private static readonly Dictionary<string, int> StorageElementBytes = new()
    {
        ["torch.FloatStorage"] = 4, ["torch.HalfStorage"] = 2, ["torch.BFloat16Storage"] = 2, ["torch.DoubleStorage"] = 8,
        ["torch.LongStorage"] = 8, ["torch.IntStorage"] = 4, ["torch.ShortStorage"] = 2, ["torch.CharStorage"] = 1,
        ["torch.ByteStorage"] = 1, ["torch.BoolStorage"] = 1,
    };

    /// <summary>
    /// Every storage must have a zip entry of exactly the bytes the pickle declares, and every tensor must be a whole,
    /// row-major view from the start of its storage: the reader copies a tensor's bytes from the start of the entry,
    /// so anything else would load bytes of another tensor, or bytes that are not there, without a word.
    /// </summary>
    private static void RefuseUnbackedTensors(string path, ZipArchive archive, IReadOnlyCollection<PickleMachine.Storage> storages,
        IReadOnlyList<PickleMachine.TensorView> tensors)
    {
        var elementsOf = new Dictionary<string, long>();
        foreach (var storage in storages)
        {
            var entry = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith($"data/{storage.Key}", StringComparison.Ordinal))
                        ?? throw new InvalidDataException($"'{path}' names storage '{storage.Key}' but has no entry data/{storage.Key}; the file is incomplete.");
            if (!StorageElementBytes.TryGetValue(storage.Type, out int size))
                throw new InvalidDataException($"'{path}' declares storage '{storage.Key}' of type '{storage.Type}', which is not a storage class.");
            long expected = checked(storage.Elements * size);
            if (entry.Length != expected)
                throw new InvalidDataException(
                    $"'{path}': storage '{storage.Key}' ({storage.Elements} × {storage.Type}) needs {expected} bytes but its entry holds {entry.Length}; the file is damaged.");
            elementsOf[storage.Key] = storage.Elements;
        }
        foreach (var view in tensors)
        {
            long elements = view.Size.Aggregate(1L, (a, b) => checked(a * b));
            long stride = 1;
            for (int d = view.Size.Length - 1; d >= 0; d--)
            {
                if (view.Size[d] < 0 || (view.Size[d] > 1 && view.Stride[d] != stride))
                    throw new InvalidDataException(
                        $"'{path}' has a tensor that is a strided view of storage '{view.Key}' (size [{string.Join(", ", view.Size)}], stride [{string.Join(", ", view.Stride)}]), " +
                        "which ActScale's .bin reader cannot load faithfully. Convert the checkpoint to model.safetensors.");
                stride *= view.Size[d];
            }
            if (view.Offset != 0 || !elementsOf.TryGetValue(view.Key, out var available) || elements > available)
                throw new InvalidDataException(
                    $"'{path}' has a tensor of {elements} elements at offset {view.Offset} of storage '{view.Key}', which does not hold it whole from its start; " +
                    "ActScale's .bin reader cannot load it faithfully. Convert the checkpoint to model.safetensors.");
        }
    }

    private static void RefuseZipBomb(string path, ZipArchive archive)
    {
        long fileLength = new FileInfo(path).Length;
        long declared = 0;
        foreach (var entry in archive.Entries)
        {
            if (entry.Length < 0 || entry.CompressedLength < 0)
                throw new InvalidDataException($"'{path}' has a zip entry '{entry.FullName}' with a negative size; the archive is corrupt.");
            declared += entry.Length;
            if (declared > MaxExpansion * Math.Max(fileLength, 1L << 20))
                throw new InvalidDataException(
                    $"'{path}' declares {declared} bytes of content in a {fileLength}-byte file (entry '{entry.FullName}' and those before it); " +
                    "no PyTorch checkpoint expands like that. It is a zip bomb or a corrupt archive: refusing to inflate it.");
        }
    }

    /// <summary>
    /// The pickle's bytes: exactly what the zip directory declares (.NET inflates an entry no further than its
    /// declared size), never more than <see cref="MaxPickleBytes"/>, and a stream shorter than declared is refused.
    /// </summary>
    private static byte[] ReadDeclared(string path, ZipArchiveEntry entry)
    {
        if (entry.Length > MaxPickleBytes)
            throw new InvalidDataException(
                $"'{path}' has a {entry.Length}-byte {entry.FullName}; a state dict's pickle is far smaller (at most {MaxPickleBytes} bytes are read). It is not a plain state dict.");
        var buffer = new byte[entry.Length];
        using var stream = entry.Open();
        int read = 0;
        while (read < buffer.Length && stream.Read(buffer, read, buffer.Length - read) is var n and > 0) read += n;
        if (read < buffer.Length)
            throw new InvalidDataException($"'{path}': {entry.FullName} does not have the {entry.Length} bytes its zip directory declares; the archive is corrupt.");
        return buffer;
    }

    private static ZipArchive OpenArchive(string path)
    {
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException)
        {
            throw new InvalidDataException(
                $"'{path}' is not a zip-format PyTorch checkpoint (torch.save since PyTorch 1.6). Re-save it, or convert it to safetensors.");
        }
    }
}
