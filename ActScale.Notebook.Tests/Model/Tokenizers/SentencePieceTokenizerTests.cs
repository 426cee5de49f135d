using System.Text;
using ActScale.Model;
using ActScale.Tests.Support;

namespace ActScale.Tests.Model.Tokenizers;

/// <summary>
/// tokenizer.model (SentencePiece BPE, as Llama 2 and Mistral ship it). No real one is available offline, so a
/// tiny model is written here as the protobuf SentencePiece reads: pieces, trainer spec (BPE, byte fallback,
/// unk/bos/eos ids) and a normalizer that adds the dummy prefix and escapes spaces as ▁.
/// </summary>
public class SentencePieceTokenizerTests
{
    private static void Varint(Stream s, ulong v)
    {
        while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
        s.WriteByte((byte)v);
    }

    private static void Field(Stream s, int field, ulong value) { Varint(s, (ulong)(field << 3)); Varint(s, value); }

    private static void Field(Stream s, int field, byte[] bytes) { Varint(s, (ulong)(field << 3 | 2)); Varint(s, (ulong)bytes.Length); s.Write(bytes); }

    private static void Field(Stream s, int field, float value) { Varint(s, (ulong)(field << 3 | 5)); s.Write(BitConverter.GetBytes(value)); }

    private static byte[] Message(Action<Stream> write)
    {
        using var s = new MemoryStream();
        write(s);
        return s.ToArray();
    }

    /// <summary>Ids: 0 unk, 1 bos, 2 eos, 3..258 bytes, then the pieces below (higher score merges first).</summary>
    private static readonly string[] Pieces = ["▁t", "he", "▁the", "at", "▁c", "▁cat", "▁", "t", "h", "e", "c", "a"];

    private static void WriteModel(string path)
    {
        var model = Message(s =>
        {
            void Piece(string text, float score, int type) =>
                Field(s, 1, Message(p => { Field(p, 1, Encoding.UTF8.GetBytes(text)); Field(p, 2, score); Field(p, 3, (ulong)type); }));
            Piece("<unk>", 0, 2);
            Piece("<s>", 0, 3);
            Piece("</s>", 0, 3);
            for (int b = 0; b < 256; b++) Piece($"<0x{b:X2}>", 0, 6);
            for (int i = 0; i < Pieces.Length; i++) Piece(Pieces[i], -i, 1);
            Field(s, 2, Message(t =>
            {
                Field(t, 3, 2UL);   // model_type BPE
                Field(t, 35, 1UL);  // byte_fallback
                Field(t, 40, 0UL);  // unk_id
                Field(t, 41, 1UL);  // bos_id
                Field(t, 42, 2UL);  // eos_id
                Field(t, 43, unchecked((ulong)-1L)); // pad_id -1
            }));
            Field(s, 3, Message(n =>
            {
                Field(n, 1, Encoding.UTF8.GetBytes("identity"));
                Field(n, 3, 1UL);   // add_dummy_prefix
                Field(n, 4, 1UL);   // remove_extra_whitespaces
                Field(n, 5, 1UL);   // escape_whitespaces
            }));
        });
        File.WriteAllBytes(path, model);
    }

    [Fact]
    public void TokenizerModelEncodesWithBosDummyPrefixAndByteFallback()
    {
        using var folder = TinyCheckpoints.NewFolder();
        WriteModel(Path.Combine(folder.Path, "tokenizer.model"));
        var tokenizer = TextTokenizer.FromFolder(folder.Path);
        Assert.Equal("tokenizer.model (SentencePiece)", tokenizer.Format);
        int Id(string piece) => 259 + Array.IndexOf(Pieces, piece);
        Assert.Equal([1, Id("▁the"), Id("▁cat")], tokenizer.Encode("the cat"));
        // "!" has no piece: byte fallback to <0x21> = 3 + 0x21.
        Assert.Equal([1, Id("▁cat"), 3 + 0x21], tokenizer.Encode("cat!"));
        Assert.Equal("the cat!", tokenizer.Decode(tokenizer.Encode("the cat!")));
    }
}
