using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ActScale.Model.Tokenizers;

/// <summary>
/// llama2.c's tokenizer (e.g. stories260K's tok512) from its JSON form: <c>pieces[id]</c> and <c>scores[id]</c>.
/// Encoding follows llama2.c: BOS, a dummy-prefix <c>" "</c> piece, one piece per character (bytes
/// <c>&lt;0xNN&gt;</c> at id NN+3 for characters with no piece), then repeatedly merge the leftmost adjacent pair
/// whose concatenation is a piece with the highest score. Decoding drops the leading space of a piece that
/// follows BOS and turns byte pieces back into bytes.
/// </summary>
internal sealed class Llama2cTokenizer : ITokenizerFormat
{
    private const int ByteOffset = 3;
    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly int _bos, _eos, _unk;

    private Llama2cTokenizer(string[] pieces, float[] scores, int bos, int eos, int unk)
    {
        _pieces = pieces;
        _scores = scores;
        _bos = bos;
        _eos = eos;
        _unk = unk;
        // The first id of a duplicated piece wins, like llama2.c's sorted lookup of a stable sort.
        for (int id = 0; id < pieces.Length; id++) _ids.TryAdd(pieces[id], id);
        LongestTokenBytes = pieces.Max(p => ByteValue(p) is null ? Encoding.UTF8.GetByteCount(p) : 1);
    }

    public string Description => "llama2.c tokenizer (tok*.vocab.json)";
    public int VocabularySize => _pieces.Length;

    public static Llama2cTokenizer Read(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                   ?? throw new InvalidDataException($"'{path}' is not a JSON object.");
        var pieces = (root["pieces"] as JsonArray ?? throw new InvalidDataException($"'{path}' has no \"pieces\" array."))
            .Select(n => n!.GetValue<string>()).ToArray();
        var scores = (root["scores"] as JsonArray ?? throw new InvalidDataException($"'{path}' has no \"scores\" array."))
            .Select(n => n!.GetValue<float>()).ToArray();
        if (pieces.Length != scores.Length)
            throw new InvalidDataException($"'{path}' has {pieces.Length} pieces but {scores.Length} scores.");
        if (pieces.Length < ByteOffset + 256)
            throw new InvalidDataException($"'{path}' has only {pieces.Length} pieces; a llama2.c vocabulary holds unk, BOS, EOS and 256 byte pieces first.");
        int Id(string key, int fallback) => root[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : fallback;
        return new Llama2cTokenizer(pieces, scores, Id("bos_id", 1), Id("eos_id", 2), Id("unk_id", 0));
    }

    public int LongestTokenBytes { get; }

    /// <summary>llama2.c's encoding of a whole text: BOS, then the dummy-prefix space, then the text.</summary>
    public int[] Encode(string text)
    {
        if (text.Length == 0) return [_bos];
        return [_bos, .. Merged(text, dummyPrefix: true)];
    }

    /// <summary>A continuation carries its own leading space (" Paris"), so neither BOS nor the dummy prefix is added.</summary>
    public int[] EncodeContinuation(string text) => Merged(text, dummyPrefix: false).ToArray();

    private List<int> Merged(string text, bool dummyPrefix)
    {
        var tokens = new List<int>();
        if (dummyPrefix && _ids.TryGetValue(" ", out var space)) tokens.Add(space);

        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            var piece = rune.ToString();
            if (_ids.TryGetValue(piece, out var id)) tokens.Add(id);
            else
            {
                int count = rune.EncodeToUtf8(bytes);
                for (int i = 0; i < count; i++) tokens.Add(bytes[i] + ByteOffset);
            }
        }

        // Merge the best-scoring pair until no adjacent pair forms a piece.
        while (true)
        {
            float best = float.NegativeInfinity;
            int bestAt = -1, bestId = -1;
            for (int i = 0; i + 1 < tokens.Count; i++)
            {
                if (_ids.TryGetValue(_pieces[tokens[i]] + _pieces[tokens[i + 1]], out var merged) && _scores[merged] > best)
                {
                    best = _scores[merged];
                    bestAt = i;
                    bestId = merged;
                }
            }
            if (bestAt < 0) break;
            tokens[bestAt] = bestId;
            tokens.RemoveAt(bestAt + 1);
        }
        return tokens;
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        int previous = -1;
        foreach (var id in ids)
        {
            if (id == _bos || id == _eos) { previous = id; continue; }
            var piece = PieceOf(id);
            if (previous == _bos && piece.StartsWith(' ')) piece = piece[1..];
            if (ByteValue(piece) is byte b) bytes.Add(b);
            else bytes.AddRange(Encoding.UTF8.GetBytes(piece));
            previous = id;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public string TokenText(int id)
    {
        if (id == _bos) return "<s>";
        if (id == _eos) return "</s>";
        if (id == _unk) return "<unk>";
        var piece = PieceOf(id);
        return ByteValue(piece) is byte b && b >= 0x80 ? piece : Decode([id]);
    }

    private string PieceOf(int id) =>
        id >= 0 && id < _pieces.Length ? _pieces[id] : throw new ArgumentOutOfRangeException(nameof(id), $"Token id {id} is outside the vocabulary of {_pieces.Length}.");

    private static byte? ByteValue(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
        && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b)
            ? b : null;
}
