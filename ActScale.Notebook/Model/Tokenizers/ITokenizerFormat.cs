using Microsoft.ML.Tokenizers;

namespace ActScale.Model.Tokenizers;

/// <summary>One tokenizer file format behind <see cref="TextTokenizer"/>.</summary>
internal interface ITokenizerFormat
{
    string Description { get; }
    int VocabularySize { get; }
    int[] Encode(string text);
    string Decode(IEnumerable<int> ids);
    string TokenText(int id);
}

/// <summary>A Microsoft.ML.Tokenizers tokenizer (GPT-2 files, tokenizer.json BPE, SentencePiece).</summary>
internal sealed class MlTokenizerFormat(Tokenizer tokenizer, int vocabularySize, string description, Func<string, string>? normalize = null)
    : ITokenizerFormat
{
    public string Description => description;
    public int VocabularySize => vocabularySize;
    public int[] Encode(string text) => tokenizer.EncodeToIds(normalize is null ? text : normalize(text)).ToArray();
    public string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids) ?? "";
    public string TokenText(int id) => Decode([id]);
}

/// <summary>SentencePiece <c>tokenizer.model</c> (Llama 2, Mistral): BOS is added, as those models expect.</summary>
internal static class SentencePieceFormat
{
    public static ITokenizerFormat Read(string path)
    {
        using var stream = File.OpenRead(path);
        var tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: true, addEndOfSentence: false);
        return new MlTokenizerFormat(tokenizer, tokenizer.Vocabulary.Count, "tokenizer.model (SentencePiece)");
    }
}
