using ActScale.Model.Tokenizers;

namespace ActScale.Model;

/// <summary>
/// The model's tokenizer behind one small surface: ids for text, text for ids, and the display string of a
/// single token (for heatmap axes). Each file format lives in its own class under Model/Tokenizers;
/// <see cref="FromFolder"/> picks the one a checkpoint folder carries.
/// </summary>
public sealed class TextTokenizer
{
    private readonly ITokenizerFormat _format;

    private TextTokenizer(ITokenizerFormat format) => _format = format;

    public int VocabularySize => _format.VocabularySize;

    /// <summary>Which file format this tokenizer was read from, e.g. "tokenizer.json (byte-level BPE)".</summary>
    public string Format => _format.Description;

    /// <summary>
    /// The tokenizer of a checkpoint folder, tried in this order: a byte-level BPE <c>tokenizer.json</c>
    /// (GPT-NeoX, Llama 3, Qwen2), a SentencePiece <c>tokenizer.model</c> (Llama 2, Mistral), GPT-2's
    /// <c>vocab.json</c> + <c>merges.txt</c>, and llama2.c's <c>tok*.vocab.json</c>.
    /// </summary>
    public static TextTokenizer FromFolder(string folder)
    {
        RefuseSpecialFiles(folder);
        var json = Path.Combine(folder, "tokenizer.json");
        string? jsonProblem = null;
        if (File.Exists(json))
        {
            jsonProblem = HuggingFaceBpeTokenizer.Unsupported(json);
            if (jsonProblem is null) return Read(folder, () => HuggingFaceBpeTokenizer.Read(json));
        }
        var sentencePiece = Path.Combine(folder, "tokenizer.model");
        if (File.Exists(sentencePiece)) return Read(folder, () => SentencePieceFormat.Read(sentencePiece));
        if (File.Exists(Path.Combine(folder, "vocab.json")) && File.Exists(Path.Combine(folder, "merges.txt"))) return FromGpt2Files(folder);
        var llama2c = Directory.GetFiles(folder, "tok*.vocab.json").OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault();
        if (llama2c is not null) return Read(folder, () => Llama2cTokenizer.Read(llama2c));
        throw new FileNotFoundException(
            $"No tokenizer in '{folder}'. ActScale reads tokenizer.json (byte-level BPE), tokenizer.model (SentencePiece), " +
            "vocab.json + merges.txt (GPT-2) or llama2.c's tok*.vocab.json." + (jsonProblem is null ? "" : $" The tokenizer.json there is not usable: {jsonProblem}."));
    }

    public static TextTokenizer FromGpt2Files(string folder)
    {
        RefuseSpecialFiles(folder);
        var vocab = Path.Combine(folder, "vocab.json");
        var merges = Path.Combine(folder, "merges.txt");
        foreach (var file in new[] { vocab, merges })
            if (!File.Exists(file))
                throw new FileNotFoundException($"Tokenizer file '{file}' is missing; a GPT-2 folder needs vocab.json and merges.txt.", file);
        // Microsoft.ML's CodeGenTokenizer was used here before; it maps runs of spaces to CodeGen's extra ids
        // (50257+), outside GPT-2's vocabulary, so the plain byte-level BPE reader is used instead.
        return Read(folder, () => HuggingFaceBpeTokenizer.ReadGpt2Files(vocab, merges));
    }

    private static TextTokenizer Read(string folder, Func<ITokenizerFormat> read)
    {
        try
        {
            return new TextTokenizer(read());
        }
        catch (Exception e) when (e is not (FileNotFoundException or NotSupportedException or OutOfMemoryException))
        {
            throw new InvalidDataException($"The tokenizer files in '{folder}' could not be read: {e.Message}", e);
        }
    }

    /// <summary>
    /// Ids for a whole text as the model reads it (with BOS where the family adds one). Text that cannot fit in
    /// <see cref="TokenLimit"/> tokens even at the longest token per byte is refused before tokenising, so a huge
    /// prompt costs one pass over its bytes, not a tokeniser run that grows faster than its length.
    /// </summary>
    public int[] Encode(string text)
    {
        if (TokenLimit is int limit && MinimumTokenCount(text) is var least && least > limit)
            throw new ArgumentException(
                $"A text of {text.Length} characters (\"{(text.Length <= 40 ? text : text[..37] + "...")}\") has at least {least} tokens, " +
                $"more than the model's context of {limit}; shorten it.", nameof(text));
        return _format.Encode(text);
    }

    /// <summary>
    /// Ids for text that continues a prompt, such as an answer: no BOS, and SentencePiece's leading-space rule applied
    /// to the text's own spaces, so " Paris" is one token wherever the vocabulary has "▁Paris".
    /// </summary>
    public int[] EncodeContinuation(string text) => _format.EncodeContinuation(text);

    /// <summary>A tokenizer file that is a named pipe or a device would block or never end when read.</summary>
    private static void RefuseSpecialFiles(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder).Where(IsTokenizerFile))
            RegularFile.Require(file, "Tokenizer file");
    }

    private static bool IsTokenizerFile(string path) =>
        Path.GetFileName(path) is "tokenizer.json" or "tokenizer.model" or "vocab.json" or "merges.txt"
        || (Path.GetFileName(path).StartsWith("tok", StringComparison.Ordinal) && path.EndsWith(".vocab.json", StringComparison.Ordinal));

    /// <summary>Tokens this model reads at most (its context); null for a tokenizer used on its own.</summary>
    public int? TokenLimit { get; private init; }

    /// <summary>The model's tokenizer: the same, refusing texts longer than <paramref name="contextLength"/> tokens before tokenising.</summary>
    public TextTokenizer LimitedTo(int contextLength) => new(_format) { TokenLimit = contextLength };

    /// <summary>A lower bound on the tokens <paramref name="text"/> takes, from its UTF-8 length alone (linear, no tokenising).</summary>
    public int MinimumTokenCount(string text)
    {
        long bytes = System.Text.Encoding.UTF8.GetByteCount(text);
        return (int)Math.Min(int.MaxValue, (bytes + _format.LongestTokenBytes - 1) / _format.LongestTokenBytes);
    }

    public string Decode(IEnumerable<int> ids) => _format.Decode(ids);

    /// <summary>The text of one token, as a person reads it (a leading space stays a space).</summary>
    public string TokenText(int id) => _format.TokenText(id);
}
