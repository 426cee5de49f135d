using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace ActScale.Model.Tokenizers;

// Over 200 lines: tokenizer.json's pre-tokenizer, normalizer, merges and special tokens are read and applied together; each part alone is meaningless.

/// <summary>
/// A Hugging Face fast-tokenizer file (<c>tokenizer.json</c>) whose model is byte-level BPE: GPT-NeoX/Pythia,
/// Llama 3, Qwen2 and GPT-2 exports. The vocabulary, merges, pre-tokenizer split pattern, added (special) tokens
/// and a BOS from the post-processor template are read from the file and handed to Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/>.
/// </summary>
internal static class HuggingFaceBpeTokenizer
{
    /// <summary>GPT-2's split pattern, which a ByteLevel pre-tokenizer with use_regex applies.</summary>
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Why this tokenizer.json cannot be read as byte-level BPE, or null when it can.</summary>
    public static string? Unsupported(string path)
    {
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException("not an object");
            var model = root["model"] as JsonObject;
            var type = model?["type"]?.GetValue<string>() ?? (model?["merges"] is not null ? "BPE" : null);
            if (type != "BPE") return $"its model type is {type ?? "missing"}, not BPE";
            if (!IsByteLevel(root)) return "it is not byte-level BPE (a SentencePiece-style tokenizer.json; tokenizer.model is read instead when present)";
            return null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or InvalidOperationException or ArgumentException)
        {
            // Broken JSON, a repeated key, or a field of the wrong type (an array where an object belongs).
            return $"it is not a valid tokenizer.json ({e.Message})";
        }
    }

    private static bool IsByteLevel(JsonObject root) =>
        Steps(root["pre_tokenizer"]).Any(s => s["type"]?.GetValue<string>() == "ByteLevel")
        || root["decoder"]?["type"]?.GetValue<string>() == "ByteLevel";

    /// <summary>A pre-tokenizer node, flattened through Sequence.</summary>
    private static IEnumerable<JsonObject> Steps(JsonNode? node)
    {
        if (node is not JsonObject step) yield break;
        if (step["type"]?.GetValue<string>() == "Sequence" && step["pretokenizers"] is JsonArray inner)
        {
            foreach (var child in inner)
                foreach (var s in Steps(child)) yield return s;
        }
        else yield return step;
    }

    public static ITokenizerFormat Read(string path)
    {
        var root = (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;
        var model = (JsonObject)root["model"]!;
        var vocabulary = (model["vocab"] as JsonObject ?? throw new InvalidDataException("model.vocab is missing"))
            .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>(), StringComparer.Ordinal);
        // Merges are "a b" strings in older files and ["a", "b"] pairs in newer ones.
        var merges = (model["merges"] as JsonArray ?? throw new InvalidDataException("model.merges is missing"))
            .Select(m => m is JsonArray pair ? $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}" : m!.GetValue<string>())
            .ToList();

        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root["added_tokens"] is JsonArray added)
            foreach (var token in added.OfType<JsonObject>())
                special[token["content"]!.GetValue<string>()] = token["id"]!.GetValue<int>();
        // Llama 3 sets ignore_merges: a pre-token that is itself in the vocabulary is taken whole, even where the
        // merges would not reach it.
        bool ignoreMerges = model["ignore_merges"] is JsonValue flag && flag.TryGetValue<bool>(out var ignore) && ignore;
        return Create(vocabulary, merges, SplitPattern(root), special, TemplateBos(root), "tokenizer.json (byte-level BPE)", Normalization(root), ignoreMerges);
    }

    /// <summary>GPT-2's vocab.json + merges.txt as byte-level BPE with GPT-2's split pattern and &lt;|endoftext|&gt;.</summary>
    public static ITokenizerFormat ReadGpt2Files(string vocabPath, string mergesPath)
    {
        var vocabulary = (JsonNode.Parse(File.ReadAllText(vocabPath)) as JsonObject ?? throw new InvalidDataException($"'{vocabPath}' is not a JSON object"))
            .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>(), StringComparer.Ordinal);
        var merges = File.ReadLines(mergesPath).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToList();
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        if (vocabulary.TryGetValue("<|endoftext|>", out var endOfText)) special["<|endoftext|>"] = endOfText;
        return Create(vocabulary, merges, Gpt2Pattern, special, null, "vocab.json + merges.txt (GPT-2 byte-level BPE)");
    }

    private static ITokenizerFormat Create(Dictionary<string, int> vocabulary, List<string> merges, string pattern,
        Dictionary<string, int> special, string? bos, string description, Func<string, string>? normalize = null, bool ignoreMerges = false)
    {
        foreach (var (content, id) in special) vocabulary.TryAdd(content, id);
        int size = vocabulary.Values.Max() + 1;
        if (ignoreMerges)
        {
            var plain = BpeTokenizer.Create(new BpeOptions(vocabulary)
            {
                Merges = merges,
                ByteLevel = true,
                PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), null),
            });
            int? bosId = bos is null ? null : vocabulary[bos];
            return new WholeWordFirstFormat(plain, new Regex(pattern, RegexOptions.Compiled), vocabulary, special, bosId, size, description, normalize);
        }
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), special.Count > 0 ? special : null),
            SpecialTokens = special.Count > 0 ? special : null,
        };
        if (bos is not null) options.BeginningOfSentenceToken = bos;
        var tokenizer = BpeTokenizer.Create(options);
        return new MlTokenizerFormat(tokenizer, size, description, normalize);
    }

    /// <summary>
    /// One regex equal to the pre-tokenizer: a Split step's pattern (Llama 3, Qwen2), or GPT-2's pattern for a
    /// splitting ByteLevel step, with its number rule narrowed when a Digits step precedes it (SmolLM).
    /// </summary>
    private static string SplitPattern(JsonObject root)
    {
        string? split = null;
        bool? digits = null, byteLevelSplits = null;
        foreach (var step in Steps(root["pre_tokenizer"]))
        {
            var type = step["type"]?.GetValue<string>();
            switch (type)
            {
                case "Split" when split is null:
                    var behavior = step["behavior"]?.GetValue<string>() ?? "Isolated";
                    if (behavior != "Isolated" || step["invert"]?.GetValue<bool>() == true)
                        throw new NotSupportedException($"tokenizer.json has a Split pre-tokenizer with behavior {behavior}; only Isolated splits are read.");
                    split = step["pattern"]?["Regex"]?.GetValue<string>()
                            ?? (step["pattern"]?["String"]?.GetValue<string>() is string literal ? Regex.Escape(literal) : null)
                            ?? throw new NotSupportedException("tokenizer.json has a Split pre-tokenizer without a pattern.");
                    break;
                case "Digits":
                    digits = step["individual_digits"]?.GetValue<bool>() ?? false;
                    break;
                case "ByteLevel":
                    byteLevelSplits = step["use_regex"]?.GetValue<bool>() ?? true;
                    break;
                default:
                    throw new NotSupportedException($"tokenizer.json's pre-tokenizer has a {type} step, which ActScale does not read (it reads Split, Digits and ByteLevel).");
            }
        }
        if (split is not null)
        {
            if (digits is not null || byteLevelSplits == true)
                throw new NotSupportedException("tokenizer.json combines a Split pattern with other splitting steps, which ActScale does not read.");
            try
            {
                _ = new Regex(split);
            }
            catch (ArgumentException e)
            {
                throw new NotSupportedException($"tokenizer.json's split pattern is not a .NET regular expression ({e.Message}).", e);
            }
            return split;
        }
        // Digits first isolates numbers (one digit each when individual), so no space joins them.
        return digits switch
        {
            true => Gpt2Pattern.Replace(@" ?\p{N}+", @"\p{N}"),
            false => Gpt2Pattern.Replace(@" ?\p{N}+", @"\p{N}+"),
            null => Gpt2Pattern,
        };
    }

    /// <summary>NFC (Qwen2, Pythia) or nothing; other normalizers are refused rather than silently skipped.</summary>
    private static Func<string, string>? Normalization(JsonObject root)
    {
        var node = root["normalizer"] as JsonObject;
        if (node is null) return null;
        var steps = node["type"]?.GetValue<string>() == "Sequence" && node["normalizers"] is JsonArray all ? all.OfType<JsonObject>().ToList() : [node];
        foreach (var step in steps)
            if (step["type"]?.GetValue<string>() != "NFC")
                throw new NotSupportedException($"tokenizer.json has a {step["type"]?.GetValue<string>()} normalizer; ActScale reads only NFC.");
        return steps.Count == 0 ? null : text => text.Normalize(System.Text.NormalizationForm.FormC);
    }

    /// <summary>Llama 3 adds &lt;|begin_of_text|&gt; through a TemplateProcessing post-processor that starts with a special token.</summary>
    private static string? TemplateBos(JsonObject root)
    {
        var steps = root["post_processor"] is JsonObject post
            ? post["type"]?.GetValue<string>() == "Sequence" && post["processors"] is JsonArray all ? all.OfType<JsonObject>() : [post]
            : [];
        foreach (var step in steps)
        {
            if (step["type"]?.GetValue<string>() != "TemplateProcessing") continue;
            if (step["single"] is JsonArray single && single.FirstOrDefault()?["SpecialToken"]?["id"]?.GetValue<string>() is string id)
                return id;
        }
        return null;
    }
}

/// <summary>
/// Byte-level BPE with Hugging Face's <c>ignore_merges</c>: special tokens are cut out first, the rest is split
/// by the pre-tokenizer pattern, and each piece found whole in the vocabulary (in its byte-level spelling) is one
/// token; other pieces go through the merges.
/// </summary>
internal sealed class WholeWordFirstFormat(BpeTokenizer bpe, Regex split, IReadOnlyDictionary<string, int> vocabulary,
    IReadOnlyDictionary<string, int> special, int? bos, int vocabularySize, string description, Func<string, string>? normalize)
    : ITokenizerFormat
{
    private static readonly char[] ByteAlphabet = BuildByteAlphabet();
    private readonly string[] _specialByLength = special.Keys.OrderByDescending(k => k.Length).ToArray();

    public string Description => description;
    public int VocabularySize => vocabularySize;
    public int LongestTokenBytes { get; } = vocabulary.Keys.Max(k => k.Length) * (normalize is null ? 1 : 3);

    /// <summary>GPT-2's byte → printable character table of byte-level vocabularies.</summary>
    private static char[] BuildByteAlphabet()
    {
        var table = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
            table[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) ? (char)b : (char)(256 + extra++);
        return table;
    }

    public int[] Encode(string text)
    {
        if (normalize is not null) text = normalize(text);
        var ids = new List<int>();
        if (bos is int b) ids.Add(b);
        int start = 0;
        while (start < text.Length)
        {
            // The earliest special token (the longest where several start at the same place).
            int at = -1;
            string? found = null;
            foreach (var token in _specialByLength)
            {
                int i = text.IndexOf(token, start, StringComparison.Ordinal);
                if (i >= 0 && (at < 0 || i < at)) { at = i; found = token; }
            }
            int end = at < 0 ? text.Length : at;
            foreach (Match piece in split.Matches(text[start..end]))
            {
                var spelled = new string(System.Text.Encoding.UTF8.GetBytes(piece.Value).Select(x => ByteAlphabet[x]).ToArray());
                if (vocabulary.TryGetValue(spelled, out var whole)) ids.Add(whole);
                else ids.AddRange(bpe.EncodeToIds(piece.Value));
            }
            if (found is null) break;
            ids.Add(special[found]);
            start = at + found.Length;
        }
        return ids.ToArray();
    }

    public int[] EncodeContinuation(string text)
    {
        var ids = Encode(text);
        return bos is int b && ids.Length > 0 && ids[0] == b ? ids[1..] : ids;
    }

    public string Decode(IEnumerable<int> ids) => bpe.Decode(ids) ?? "";
    public string TokenText(int id) => Decode([id]);
}
