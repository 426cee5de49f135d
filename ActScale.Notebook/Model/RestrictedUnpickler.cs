using System.Collections;
using System.IO.Compression;
using System.Text;
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

    public static Hashtable ReadStateDict(string path)
    {
        using (var archive = OpenArchive(path))
        {
            var pickle = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                         ?? throw new InvalidDataException($"'{path}' has no data.pkl; it is not a PyTorch checkpoint.");
            using var stream = pickle.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            foreach (var global in GlobalsOf(buffer.ToArray()))
                if (!AllowedGlobals.Contains(global))
                    throw new UnsafePickleException(
                        $"'{path}' asks to import '{global}', which a plain state dict never needs; refusing to load it. " +
                        "Convert the checkpoint to model.safetensors with a trusted tool.");
        }
        return PyTorchUnpickler.UnpickleStateDict(path);
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

    /// <summary>The "module.name" of every GLOBAL, INST and STACK_GLOBAL in the pickle.</summary>
    internal static IEnumerable<string> GlobalsOf(byte[] data)
    {
        var memo = new Dictionary<long, string?>();
        var recent = new List<string?>(); // values pushed lately, as far as strings matter for STACK_GLOBAL
        int memoCount = 0;
        int i = 0;
        string Line() { int end = Array.IndexOf(data, (byte)'\n', i); if (end < 0) throw Truncated(); var s = Encoding.ASCII.GetString(data, i, end - i); i = end + 1; return s; }
        long Int(int bytes) { if (i + bytes > data.Length) throw Truncated(); long v = 0; for (int b = bytes - 1; b >= 0; b--) v = (v << 8) | data[i + b]; i += bytes; return v; }
        string Utf8(long length) { if (i + length > data.Length) throw Truncated(); var s = Encoding.UTF8.GetString(data, i, (int)length); i += (int)length; return s; }
        void Skip(long length) { if (i + length > data.Length) throw Truncated(); i += (int)length; }
        void Push(string? value) { recent.Add(value); if (recent.Count > 2) recent.RemoveAt(0); }

        while (i < data.Length)
        {
            byte op = data[i++];
            switch (op)
            {
                case (byte)'.': yield break;
                case (byte)'c' or (byte)'i': { var module = Line(); var name = Line(); yield return $"{module}.{name}"; Push(null); break; }
                case 0x93:
                    if (recent.Count < 2 || recent[0] is null || recent[1] is null)
                        throw new UnsafePickleException("A pickle imports a global whose name cannot be read statically; refusing it.");
                    yield return $"{recent[0]}.{recent[1]}";
                    Push(null);
                    break;
                case (byte)'X': Push(Utf8(Int(4))); break;
                case 0x8c: Push(Utf8(Int(1))); break;
                case 0x8d: Push(Utf8(Int(8))); break;
                case (byte)'V' or (byte)'S': Push(Line().Trim('\'', '"')); break;
                case (byte)'T': Push(Utf8(Int(4))); break;
                case (byte)'U': Push(Utf8(Int(1))); break;
                case (byte)'p': memo[long.Parse(Line())] = recent.LastOrDefault(); break;
                case (byte)'q': memo[Int(1)] = recent.LastOrDefault(); break;
                case (byte)'r': memo[Int(4)] = recent.LastOrDefault(); break;
                case 0x94: memo[memoCount++] = recent.LastOrDefault(); break;
                case (byte)'g': Push(memo.GetValueOrDefault(long.Parse(Line()))); break;
                case (byte)'h': Push(memo.GetValueOrDefault(Int(1))); break;
                case (byte)'j': Push(memo.GetValueOrDefault(Int(4))); break;
                case (byte)'F' or (byte)'I' or (byte)'L' or (byte)'P': Line(); Push(null); break;
                case (byte)'J': Skip(4); Push(null); break;
                case (byte)'K' or 0x82: Skip(1); Push(null); break;
                case (byte)'M' or 0x83: Skip(2); Push(null); break;
                case 0x84: Skip(4); Push(null); break;
                case (byte)'G': Skip(8); Push(null); break;
                case 0x80: Skip(1); break;
                case 0x95: Skip(8); break;
                case 0x8a: Skip(Int(1)); Push(null); break;
                case 0x8b or (byte)'B': Skip(Int(4)); Push(null); break;
                case (byte)'C': Skip(Int(1)); Push(null); break;
                case 0x8e or 0x96: Skip(Int(8)); Push(null); break;
                default: Push(null); break; // opcodes without an argument
            }
        }
    }

    private static InvalidDataException Truncated() => new("The checkpoint's pickle ends in the middle of an opcode: the file is truncated.");
}
