using System.Text;

namespace ActScale.Model;

/// <summary>
/// Runs a pickle's opcodes on a model of the unpickler's stack, mark stack and memo, keeping only what decides an
/// import: which strings are where. The memo follows the unpickler exactly (PUT/BINPUT/LONG_BINPUT store at the
/// index given, MEMOIZE at the memo's current size, GETs read what is stored there), so a pickle that reuses slots
/// to show the checker one name and the unpickler another sees the same name here. Anything this model cannot
/// follow (a string it cannot decode, an extension-registry import, an unknown opcode) is refused rather than
/// guessed.
/// </summary>
internal sealed class PickleMachine
{
    /// <summary>A stack value that is not a string the checker can read.</summary>
    private static readonly object Other = new();

    private readonly byte[] _data;
    private int _at;
    private List<object> _stack = [];
    private readonly Stack<List<object>> _marks = new();
    private readonly Dictionary<long, object> _memo = new();

    private PickleMachine(byte[] data) => _data = data;

    /// <summary>The "module.name" of every GLOBAL, INST and STACK_GLOBAL, in the order the unpickler would import them.</summary>
    public static IEnumerable<string> GlobalsOf(byte[] data)
    {
        var machine = new PickleMachine(data);
        while (machine.Step() is var (stop, global))
        {
            if (global is not null) yield return global;
            if (stop) yield break;
        }
    }

    /// <summary>Executes one opcode; returns whether it was STOP and the global it imports, if any.</summary>
    private (bool Stop, string? Global) Step()
    {
        if (_at >= _data.Length) throw Malformed("it ends without a STOP opcode");
        byte op = _data[_at++];
        switch (op)
        {
            case (byte)'.': return (true, null);
            case (byte)'c': { var global = $"{Line()}.{Line()}"; Push(Other); return (false, global); }
            case (byte)'i': { var global = $"{Line()}.{Line()}"; PopMark(); Push(Other); return (false, global); }
            case 0x93:
            {
                var name = Pop();
                var module = Pop();
                if (module is not string m || name is not string n)
                    throw new UnsafePickleException("A pickle imports a global whose name cannot be read statically; refusing it.");
                Push(Other);
                return (false, $"{m}.{n}");
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
            case (byte)'J': Skip(4); Push(Other); break;
            case (byte)'K': Skip(1); Push(Other); break;
            case (byte)'M': Skip(2); Push(Other); break;
            case (byte)'G': Skip(8); Push(Other); break;
            case 0x8a: Skip(Length(1)); Push(Other); break;
            case 0x8b or (byte)'B': Skip(Length(4)); Push(Other); break;
            case (byte)'C': Skip(Length(1)); Push(Other); break;
            case 0x8e or 0x96: Skip(Length(8)); Push(Other); break;
            case (byte)'N' or 0x88 or 0x89 or (byte)'}' or (byte)']' or (byte)')' or 0x8f or 0x97: Push(Other); break;

            // Stack shape.
            case (byte)'(': _marks.Push(_stack); _stack = []; break;
            case (byte)'0': if (_stack.Count > 0) Pop(); else PopMark(); break;
            case (byte)'1': PopMark(); break;
            case (byte)'2': Push(Top()); break;
            case (byte)'Q': Pop(); Push(Other); break;
            case (byte)'R' or 0x81: Pop(); Pop(); Push(Other); break;
            case 0x92: Pop(); Pop(); Pop(); Push(Other); break;
            case (byte)'a' or (byte)'b': Pop(); Top(); break;
            case (byte)'s': Pop(); Pop(); Top(); break;
            case (byte)'e' or (byte)'u' or 0x90: PopMark(); Top(); break;
            case (byte)'d' or (byte)'l' or (byte)'t' or (byte)'o' or 0x91: PopMark(); Push(Other); break;
            case 0x85: Pop(); Push(Other); break;
            case 0x86: Pop(); Pop(); Push(Other); break;
            case 0x87: Pop(); Pop(); Pop(); Push(Other); break;
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
        return (false, null);
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

    private void PopMark()
    {
        if (_marks.Count == 0) throw Malformed("an opcode needs a MARK that was never set");
        _stack = _marks.Pop();
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

    /// <summary>A little-endian unsigned length or index of <paramref name="bytes"/> bytes.</summary>
    private long Length(int bytes)
    {
        if (_at + bytes > _data.Length) throw Truncated();
        ulong value = 0;
        for (int b = bytes - 1; b >= 0; b--) value = (value << 8) | _data[_at + b];
        _at += bytes;
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
