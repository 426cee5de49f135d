using System.Text;

namespace ActScale.Model;

// Over 200 lines: it mirrors the unpickler's opcode table one case per opcode, which is what makes the memo tracking exact.

/// <summary>
/// Runs a pickle's opcodes on a model of the unpickler's stack, mark stack and memo, keeping what decides an import
/// (which strings are where) and what says how much data the tensors read (small integers, tuples, the storages named
/// by persistent ids and the arguments of each tensor rebuild). The memo follows the unpickler exactly (PUT/BINPUT/LONG_BINPUT store at the
/// index given, MEMOIZE at the memo's current size, GETs read what is stored there), so a pickle that reuses slots
/// to show the checker one name and the unpickler another sees the same name here. Anything this model cannot
/// follow (a string it cannot decode, an extension-registry import, an unknown opcode) is refused rather than
/// guessed.
/// </summary>
internal sealed class PickleMachine
{
    /// <summary>A stack value that is not a string the checker can read.</summary>
    private static readonly object Other = new();

    /// <summary>An imported callable or class.</summary>
    private sealed record GlobalRef(string Name);

    /// <summary>A storage, as BINPERSID returns it for a <c>("storage", type, key, location, elements)</c> id.</summary>
    private sealed record StorageRef(string Key);

    /// <summary>One storage of the checkpoint: its zip entry key, its storage class ("torch.FloatStorage") and element count.</summary>
    public sealed record Storage(string Key, string Type, long Elements);

    /// <summary>One <c>_rebuild_tensor(_v2)</c>: the storage it views, its offset, sizes and strides in elements.</summary>
    public sealed record TensorView(string Key, long Offset, long[] Size, long[] Stride);

    private readonly Dictionary<string, Storage> _storages = new();
    private readonly List<TensorView> _tensors = [];
    private readonly Action<string> _onGlobal;

    private readonly byte[] _data;
    private int _at;
    private List<object> _stack = [];
    private readonly Stack<List<object>> _marks = new();
    private readonly Dictionary<long, object> _memo = new();

    private PickleMachine(byte[] data, Action<string> onGlobal)
    {
        _data = data;
        _onGlobal = onGlobal;
    }

    /// <summary>
    /// Runs the pickle to its STOP. <paramref name="onGlobal"/> sees the "module.name" of every GLOBAL, INST and
    /// STACK_GLOBAL when the unpickler would import it, and may throw to refuse it. Returns the storages and tensor views.
    /// </summary>
    public static (IReadOnlyCollection<Storage> Storages, IReadOnlyList<TensorView> Tensors) Run(byte[] data, Action<string> onGlobal)
    {
        var machine = new PickleMachine(data, onGlobal);
        while (!machine.Step()) { }
        return (machine._storages.Values, machine._tensors);
    }

    private GlobalRef Import(string name)
    {
        _onGlobal(name);
        return new GlobalRef(name);
    }

    /// <summary>Executes one opcode; returns whether it was STOP.</summary>
    private bool Step()
    {
        if (_at >= _data.Length) throw Malformed("it ends without a STOP opcode");
        byte op = _data[_at++];
        switch (op)
        {
            case (byte)'.': return true;
            case (byte)'c': Push(Import($"{Line()}.{Line()}")); break;
            case (byte)'i': { var global = Import($"{Line()}.{Line()}"); PopMark(); Push(Other); break; }
            case 0x93:
            {
                var name = Pop();
                var module = Pop();
                if (module is not string m || name is not string n)
                    throw new UnsafePickleException("A pickle imports a global whose name cannot be read statically; refusing it.");
                Push(Import($"{m}.{n}"));
                break;
            }
            case 0x82 or 0x83 or 0x84:
                throw new UnsafePickleException("A pickle imports through the copyreg extension registry (EXT opcodes), which a state dict never does; refusing it.");

            // Strings. Text the checker cannot decode exactly as the unpickler would is Other, so it can never name a global.
            case (byte)'X': Push(Utf8(Length(4))); break;
            case 0x8c: Push(Utf8(Length(1))); break;
            case 0x8d: Push(Utf8(Length(8))); break;
            case (byte)'T': Push(Ascii(Length(4))); break;
            case (byte)'U': Push(Ascii(Length(1))); break;
            case (byte)'V': { var text = Line(); Push(text.Contains('\\') || text.Contains('?') ? Other : text); break; } // '?': a byte Line could not read as ASCII
            case (byte)'S': Line(); Push(Other); break;

            // Other pushed values.
            case (byte)'F' or (byte)'I' or (byte)'L' or (byte)'P': Line(); Push(Other); break;
            case (byte)'J': Push(Length(4, signed: true)); break;
            case (byte)'K': Push(Length(1)); break;
            case (byte)'M': Push(Length(2)); break;
            case (byte)'G': Skip(8); Push(Other); break;
            case 0x8a: { long n = Length(1); Push(n is > 0 and <= 7 ? Length((int)n, signed: true) : SkipThen(n)); break; }
            case 0x8b or (byte)'B': Skip(Length(4)); Push(Other); break;
            case (byte)'C': Skip(Length(1)); Push(Other); break;
            case 0x8e or 0x96: Skip(Length(8)); Push(Other); break;
            case (byte)')': Push(Array.Empty<object>()); break;
            case (byte)'N' or 0x88 or 0x89 or (byte)'}' or (byte)']' or 0x8f or 0x97: Push(Other); break;

            // Stack shape.
            case (byte)'(': _marks.Push(_stack); _stack = []; break;
            case (byte)'0': if (_stack.Count > 0) Pop(); else PopMark(); break;
            case (byte)'1': PopMark(); break;
            case (byte)'2': Push(Top()); break;
            case (byte)'Q': Push(Persistent(Pop())); break;
            case (byte)'R': { var args = Pop(); Reduce(Pop(), args); Push(Other); break; }
            case 0x81: Pop(); Pop(); Push(Other); break;
            case 0x92: Pop(); Pop(); Pop(); Push(Other); break;
            case (byte)'a' or (byte)'b': Pop(); Top(); break;
            case (byte)'s': Pop(); Pop(); Top(); break;
            case (byte)'e' or (byte)'u' or 0x90: PopMark(); Top(); break;
            case (byte)'t': Push(PopMark().ToArray()); break;
            case (byte)'d' or (byte)'l' or (byte)'o' or 0x91: PopMark(); Push(Other); break;
            case 0x85 or 0x86 or 0x87: Push(PopTuple(op - 0x84)); break;
            case 0x80: Skip(1); break;
            case 0x95: Skip(8); break;
            case 0x98: Top(); break;

            // The memo, indexed exactly as the unpickler indexes it.
            case (byte)'p': _memo[Index(Line())] = Top(); break;
            case (byte)'q': _memo[Length(1)] = Top(); break;
            case (byte)'r': _memo[Length(4)] = Top(); break;
            case 0x94: _memo[_memo.Count] = Top(); break;
            case (byte)'g': Push(Recall(Index(Line()))); break;
            case (byte)'h': Push(Recall(Length(1))); break;
            case (byte)'j': Push(Recall(Length(4))); break;

            default: throw Malformed($"opcode 0x{op:X2} at byte {_at - 1} is not a pickle opcode");
        }
        return false;
    }

    private void Push(object value) => _stack.Add(value);

    private object Pop()
    {
        if (_stack.Count == 0) throw Malformed("an opcode takes a value from an empty stack");
        var value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object Top() => _stack.Count > 0 ? _stack[^1] : throw Malformed("an opcode reads the top of an empty stack");

    /// <summary>Returns the items pushed since the last MARK and restores the stack below it.</summary>
    private List<object> PopMark()
    {
        if (_marks.Count == 0) throw Malformed("an opcode needs a MARK that was never set");
        var items = _stack;
        _stack = _marks.Pop();
        return items;
    }

    private object[] PopTuple(int count)
    {
        var items = new object[count];
        for (int i = count - 1; i >= 0; i--) items[i] = Pop();
        return items;
    }

    /// <summary>torch.save's persistent id of a storage: ("storage", storage class, key, location, element count).</summary>
    private object Persistent(object id)
    {
        if (id is not object[] { Length: 5 } t || t[0] is not "storage" || t[1] is not GlobalRef type || t[2] is not string key || t[4] is not long elements)
            return Other;
        if (elements < 0) throw Malformed($"storage '{key}' has {elements} elements");
        if (_storages.TryGetValue(key, out var known) && known != new Storage(key, type.Name, elements))
            throw Malformed($"storage '{key}' is declared twice, differently");
        _storages[key] = new Storage(key, type.Name, elements);
        return new StorageRef(key);
    }

    /// <summary>Records a tensor rebuild: _rebuild_tensor(_v2)(storage, offset, size, stride, ...).</summary>
    private void Reduce(object callable, object args)
    {
        if (callable is not GlobalRef { Name: "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_tensor" } rebuild) return;
        if (args is not object[] { Length: >= 4 } a || a[0] is not StorageRef storage || a[1] is not long offset
            || Longs(a[2]) is not long[] size || Longs(a[3]) is not long[] stride || size.Length != stride.Length)
            throw Malformed($"a call of {rebuild.Name} has arguments that do not describe a tensor");
        _tensors.Add(new TensorView(storage.Key, offset, size, stride));
    }

    private static long[]? Longs(object value) =>
        value is object[] items && items.All(i => i is long) ? items.Cast<long>().ToArray() : null;

    private object SkipThen(long length)
    {
        Skip(length);
        return Other;
    }

    private object Recall(long index) =>
        _memo.TryGetValue(index, out var value) ? value : throw Malformed($"it reads memo slot {index}, which was never stored");

    private static long Index(string text) =>
        long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var i) && i >= 0
            ? i : throw Malformed($"memo index '{text}' is not a non-negative number");

    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _at);
        if (end < 0) throw Truncated();
        var text = Encoding.ASCII.GetString(_data, _at, end - _at);
        _at = end + 1;
        return text;
    }

    /// <summary>
    /// A little-endian integer of <paramref name="bytes"/> bytes: unsigned (a length or index, at most int.MaxValue) or
    /// two's-complement signed (a value).
    /// </summary>
    private long Length(int bytes, bool signed = false)
    {
        if (_at + bytes > _data.Length) throw Truncated();
        ulong value = 0;
        for (int b = bytes - 1; b >= 0; b--) value = (value << 8) | _data[_at + b];
        _at += bytes;
        if (signed) return bytes < 8 && (value >> (8 * bytes - 1)) != 0 ? (long)value - (1L << (8 * bytes)) : (long)value;
        return value > int.MaxValue ? throw Truncated() : (long)value;
    }

    private void Skip(long length)
    {
        if (length > _data.Length - _at) throw Truncated();
        _at += (int)length;
    }

    private object Utf8(long length)
    {
        int start = _at;
        Skip(length);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(_data, start, (int)length);
        }
        catch (DecoderFallbackException)
        {
            return Other;
        }
    }

    /// <summary>Byte strings become text differently in Python (the encoding torch.load passes) and .NET; plain ASCII reads the same in both.</summary>
    private object Ascii(long length)
    {
        int start = _at;
        Skip(length);
        return _data.AsSpan(start, (int)length).ContainsAnyExceptInRange((byte)0, (byte)0x7F) ? Other : Encoding.ASCII.GetString(_data, start, (int)length);
    }

    private static InvalidDataException Truncated() => new("The checkpoint's pickle ends in the middle of an opcode: the file is truncated.");

    private static InvalidDataException Malformed(string why) => new($"The checkpoint's pickle is malformed: {why}.");
}
