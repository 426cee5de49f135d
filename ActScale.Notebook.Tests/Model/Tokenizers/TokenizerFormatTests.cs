using System.Text;
using System.Text.Json.Nodes;
using ActScale.Model;
using ActScale.Tests.Support;

namespace ActScale.Tests.Model.Tokenizers;

/// <summary>tokenizer.json (byte-level BPE) reading, folder detection and its errors.</summary>
public class TokenizerFormatTests
{
    private static readonly string[] Samples =
    [
        "The capital of France is Paris.", " When Mary and John went to the store, John gave a drink to",
        "naïve café — 東京 🙂", "it's   spaced\n\nlines\tand 12345 numbers", "<|endoftext|>Hello",
    ];

    /// <summary>GPT-2's vocabulary and merges as a Hugging Face tokenizer.json with the given pre-tokenizer and normalizer.</summary>
    private static void WriteGpt2TokenizerJson(string folder, JsonObject? preTokenizer = null, JsonObject? normalizer = null)
    {
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Gpt2Tokenizer, "vocab.json")))!.AsObject();
        var merges = new JsonArray(File.ReadLines(Path.Combine(RepoPaths.Gpt2Tokenizer, "merges.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith("#version")).Select(l => (JsonNode)JsonValue.Create(l)!).ToArray());
        var root = new JsonObject
        {
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 50256, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer ?? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges },
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), root.ToJsonString(), new UTF8Encoding(false));
    }

    [Fact]
    public void TokenizerJsonBuiltFromGpt2FilesEncodesLikeTheGpt2Tokenizer()
    {
        using var folder = TinyCheckpoints.NewFolder();
        WriteGpt2TokenizerJson(folder.Path);

        var fromJson = TextTokenizer.FromFolder(folder.Path);
        var gpt2 = TextTokenizer.FromGpt2Files(RepoPaths.Gpt2Tokenizer);
        Assert.Equal("tokenizer.json (byte-level BPE)", fromJson.Format);
        Assert.Equal(gpt2.VocabularySize, fromJson.VocabularySize);
        foreach (var text in Samples)
        {
            var ids = fromJson.Encode(text);
            Assert.True(gpt2.Encode(text).SequenceEqual(ids), $"{text}: gpt2 [{string.Join(",", gpt2.Encode(text))}] json [{string.Join(",", ids)}]");
            Assert.Equal(text, fromJson.Decode(ids));
        }
        Assert.Equal(" Paris", fromJson.TokenText(gpt2.Encode(" Paris").Single()));
        // Hugging Face GPT-2 ids: the regex keeps one space with "spaced"; the other two are byte tokens 220.
        Assert.Equal([464, 3139, 286, 4881, 318, 6342, 13], gpt2.Encode("The capital of France is Paris."));
        Assert.Equal([270, 338, 220, 220, 38980, 198, 198, 6615, 197, 392, 17031, 2231, 3146], gpt2.Encode(Samples[3]));
        Assert.Equal([50256, 15496], gpt2.Encode(Samples[4]));
    }

    [Fact]
    public void DigitsStepAndNfcNormalizerAreApplied()
    {
        using var folder = TinyCheckpoints.NewFolder();
        WriteGpt2TokenizerJson(folder.Path,
            new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Digits", ["individual_digits"] = true },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true }),
            },
            new JsonObject { ["type"] = "NFC" });
        var tokenizer = TextTokenizer.FromFolder(folder.Path);
        // "in", " ", "2", "0", "2", "4": each digit alone, the space no longer joined to the number.
        Assert.Equal([259, 220, 17, 15, 17, 19], tokenizer.Encode("in 2024"));
        Assert.Equal(tokenizer.Encode("caf\u00e9"), tokenizer.Encode("cafe\u0301"));
    }

    [Fact]
    public void UnreadablePreTokenizerIsRefusedByName()
    {
        using var folder = TinyCheckpoints.NewFolder();
        WriteGpt2TokenizerJson(folder.Path, new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581" });
        var error = Assert.Throws<NotSupportedException>(() => TextTokenizer.FromFolder(folder.Path));
        Assert.Contains("Metaspace", error.Message);
    }

    [Fact]
    public void TinyTokenizerJsonAppliesItsMergesAndSpecialToken()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyFamilyCheckpoints.WriteByteLevelTokenizerJson(Path.Combine(folder.Path, "tokenizer.json"));
        var tokenizer = TextTokenizer.FromFolder(folder.Path);
        // " the" = 258, " cat" = 261 (merges), "!" = byte 33, then the special token 262.
        Assert.Equal([258, 261, 33, 262], tokenizer.Encode(" the cat!<|endoftext|>"));
        Assert.Equal(263, tokenizer.VocabularySize);
        Assert.Equal(" the cat!", tokenizer.Decode([258, 261, 33]));
    }

    /// <summary>Llama 3's ignore_merges: a pre-token spelled whole in the vocabulary is one token even with no merge path.</summary>
    [Theory]
    [InlineData(true, new[] { 258, 263, 262, 261 })]
    [InlineData(false, new[] { 258, 32, 100, 111, 103, 262, 261 })]
    public void IgnoreMergesTakesWholeWordsFromTheVocabulary(bool ignoreMerges, int[] expected)
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "tokenizer.json");
        TinyFamilyCheckpoints.WriteByteLevelTokenizerJson(path);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root["model"]!["vocab"]!["Ġdog"] = 263;   // no merge builds it
        root["model"]!["ignore_merges"] = ignoreMerges;
        File.WriteAllText(path, root.ToJsonString(), new UTF8Encoding(false));
        var tokenizer = TextTokenizer.FromFolder(folder.Path);
        Assert.Equal(expected, tokenizer.Encode(" the dog<|endoftext|> cat"));
        Assert.Equal(" the dog<|endoftext|> cat", tokenizer.Decode(expected));
    }

    /// <summary>Llama 3 prepends &lt;|begin_of_text|&gt; through its TemplateProcessing post-processor.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TemplateBosIsPrepended(bool ignoreMerges)
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "tokenizer.json");
        TinyFamilyCheckpoints.WriteByteLevelTokenizerJson(path);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root["model"]!["ignore_merges"] = ignoreMerges;
        root["post_processor"] = new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(
                new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|endoftext|>", ["type_id"] = 0 } },
                new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
        };
        File.WriteAllText(path, root.ToJsonString(), new UTF8Encoding(false));
        Assert.Equal([262, 258, 261], TextTokenizer.FromFolder(folder.Path).Encode(" the cat"));
    }

    [Fact]
    public void FolderWithoutTokenizerSaysWhatItLooksFor()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var error = Assert.Throws<FileNotFoundException>(() => TextTokenizer.FromFolder(folder.Path));
        Assert.Contains("tokenizer.json", error.Message);
        Assert.Contains("tokenizer.model", error.Message);
    }

    [Fact]
    public void TokenizerLargerThanTheModelVocabularyIsRefused()
    {
        using var folder = TinyCheckpoints.NewFolder();
        foreach (var file in Directory.GetFiles(FamilyFixtures.Folder("tiny-llama"))) File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        var merges = Enumerable.Range(0, 60).Select(i => $"{(char)('a' + i % 26)} {(char)('a' + i / 26)}").ToArray();
        TinyFamilyCheckpoints.WriteByteLevelTokenizerJson(Path.Combine(folder.Path, "tokenizer.json"), merges);
        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("vocab_size 300", error.Message);
    }
}
