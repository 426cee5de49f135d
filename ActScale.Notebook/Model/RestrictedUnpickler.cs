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
            foreach (var global in PickleMachine.GlobalsOf(ReadDeclared(path, pickle)))
                if (!AllowedGlobals.Contains(global))
                    throw new UnsafePickleException(
                        $"'{path}' asks to import '{global}', which a plain state dict never needs; refusing to load it. " +
                        "Convert the checkpoint to model.safetensors with a trusted tool.");
        }
        return PyTorchUnpickler.UnpickleStateDict(path);
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
