using Microsoft.ML.Tokenizers;

namespace ActScale.Model.Tokenizers;

/// <summary>One tokenizer file format behind <see cref="TextTokenizer"/>.</summary>
internal interface ITokenizerFormat
{
    string Description { get; }
    int VocabularySize { get; }

    /// <summary>The most bytes of UTF-8 input one token can stand for (an upper bound): text of n bytes is at least n / this many tokens.</summary>
    int LongestTokenBytes { get; }

    /// <summary>Ids for a whole text, as the model reads it from the start (with BOS and any start-of-text rule).</summary>
    int[] Encode(string text);

    /// <summary>
    /// Ids for text that continues a prompt, such as an answer: no BOS, and no start-of-text rule (SentencePiece's dummy
    /// prefix), so " Paris" is the token a model would predict after "... is".
    /// </summary>
    int[] EncodeContinuation(string text);

    string Decode(IEnumerable<int> ids);
    string TokenText(int id);
}

/// <summary>A Microsoft.ML.Tokenizers byte-level BPE tokenizer (GPT-2 files, tokenizer.json): a continuation is the encoding without BOS.</summary>
internal sealed class MlTokenizerFormat(BpeTokenizer tokenizer, int vocabularySize, string description, Func<string, string>? normalize = null)
    : ITokenizerFormat
{
    public string Description => description;
    public int VocabularySize => vocabularySize;

    // Byte-level vocabulary entries spell one byte per character; NFC may turn one input character into up to three.
    public int LongestTokenBytes { get; } = tokenizer.Vocabulary.Keys.Max(k => k.Length) * (normalize is null ? 1 : 3);

    public int[] Encode(string text) => tokenizer.EncodeToIds(normalize is null ? text : normalize(text)).ToArray();

    private readonly int? _bos = tokenizer.BeginningOfSentenceToken is string bos && tokenizer.Vocabulary.TryGetValue(bos, out var id) ? id : null;

    public int[] EncodeContinuation(string text)
    {
        var ids = Encode(text);
        return ids.Length > 0 && ids[0] == _bos ? ids[1..] : ids;
    }

    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids) ?? "";
    public string TokenText(int id) => Decode([id]);
}

/// <summary>
/// SentencePiece <c>tokenizer.model</c> (Llama 2, Mistral). A whole text gets BOS and the dummy-prefix space, as those
/// models expect; a continuation gets neither, its own spaces becoming ▁ as the normaliser would make them.
/// </summary>
internal sealed class SentencePieceFormat(SentencePieceTokenizer tokenizer) : ITokenizerFormat
{
    public static ITokenizerFormat Read(string path)
    {
        using var stream = File.OpenRead(path);
        return new SentencePieceFormat(LlamaTokenizer.Create(stream, addBeginOfSentence: true, addEndOfSentence: false));
    }

    public string Description => "tokenizer.model (SentencePiece)";
    public int VocabularySize => tokenizer.Vocabulary.Count;
    public int LongestTokenBytes { get; } = tokenizer.Vocabulary.Keys.Max(k => System.Text.Encoding.UTF8.GetByteCount(k));

    public int[] Encode(string text) => tokenizer.EncodeToIds(text).ToArray();

    public int[] EncodeContinuation(string text) =>
        tokenizer.EncodeToIds(text.Replace(' ', '\u2581'), addBeginningOfSentence: false, addEndOfSentence: false,
            considerPreTokenization: false, considerNormalization: false).ToArray();

    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids) ?? "";
    public string TokenText(int id) => Decode([id]);
}
