using Microsoft.ML.Tokenizers;

namespace ActScale.Model;

/// <summary>
/// The model's tokenizer behind one small surface: ids for text, text for ids, and the display string of a
/// single token (for heatmap axes). GPT-2 folders use byte-level BPE from vocab.json + merges.txt.
/// </summary>
public sealed class TextTokenizer
{
    private readonly Tokenizer _tokenizer;

    private TextTokenizer(Tokenizer tokenizer, int vocabularySize)
    {
        _tokenizer = tokenizer;
        VocabularySize = vocabularySize;
    }

    public int VocabularySize { get; }

    public static TextTokenizer FromGpt2Files(string folder)
    {
        var vocab = Path.Combine(folder, "vocab.json");
        var merges = Path.Combine(folder, "merges.txt");
        foreach (var file in new[] { vocab, merges })
            if (!File.Exists(file))
                throw new FileNotFoundException($"Tokenizer file '{file}' is missing; a GPT-2 folder needs vocab.json and merges.txt.", file);
        try
        {
            using var vocabStream = File.OpenRead(vocab);
            using var mergesStream = File.OpenRead(merges);
            var tokenizer = CodeGenTokenizer.Create(vocabStream, mergesStream, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
            return new TextTokenizer(tokenizer, tokenizer.Vocabulary.Count);
        }
        catch (Exception e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"The tokenizer files in '{folder}' could not be read: {e.Message}", e);
        }
    }

    public int[] Encode(string text) => _tokenizer.EncodeToIds(text).ToArray();

    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids) ?? "";

    /// <summary>The text of one token, as a person reads it (a leading space stays a space).</summary>
    public string TokenText(int id) => Decode([id]);
}
