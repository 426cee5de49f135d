using ActScale.Model;
using ActScale.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace ActScale.Tests.Model;

/// <summary>A broken checkpoint fails with a message that names the file and, where one is at fault, the tensor.</summary>
public class CheckpointErrorTests
{
    private static readonly TinyCheckpoints.Gpt2Shape Small = new(Layers: 1, Width: 8, Heads: 2, Context: 16);

    [Fact]
    public void MissingFolderSaysWhereItLooked()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => LanguageModel.Load("/nonexistent/model-folder", "cpu"));
        Assert.Contains("/nonexistent/model-folder", error.Message);
        Assert.Contains("never downloads", error.Message);
    }

    [Fact]
    public void FolderWithoutConfigIsExplained()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var error = Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("No config.json", error.Message);
    }

    [Fact]
    public void UnknownArchitectureListsTheSupportedOnes()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        var config = Path.Combine(folder.Path, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"gpt2\"", "\"mamba\""));
        var error = Assert.Throws<NotSupportedException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("'mamba'", error.Message);
        Assert.Contains("gpt2", error.Message);
    }

    [Fact]
    public void TruncatedSafetensorsNamesFileAndTensor()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        var weights = Path.Combine(folder.Path, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 100)]);
        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains(weights, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Matches("tensor '[^']+'", error.Message);
    }

    [Fact]
    public void CorruptHeaderIsReported()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        var weights = Path.Combine(folder.Path, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[8] = (byte)'#'; // the header's opening brace
        File.WriteAllBytes(weights, bytes);
        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("header is not valid JSON", error.Message);
    }

    [Fact]
    public void MisShapedTensorNamesTheTensorAndBothShapes()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small, edit: t =>
        {
            t["transformer.h.0.mlp.c_fc.weight"].Dispose();
            t["transformer.h.0.mlp.c_fc.weight"] = zeros(8, 30);
        });
        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("transformer.h.0.mlp.c_fc.weight", error.Message);
        Assert.Contains("[8, 30]", error.Message);
        Assert.Contains("[8, 32]", error.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small, edit: t => { t["transformer.ln_f.bias"].Dispose(); t.Remove("transformer.ln_f.bias"); });
        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("transformer.ln_f.bias", error.Message);
    }

    [Fact]
    public void TokenizerLargerThanTheVocabularyIsAMismatch()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small with { Vocabulary = 1000 });
        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("50257", error.Message);
        Assert.Contains("vocab_size 1000", error.Message);
    }

    [Fact]
    public void MissingTokenizerFileIsNamed()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        File.Delete(Path.Combine(folder.Path, "merges.txt"));
        var error = Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("merges.txt", error.Message);
    }
}

public class RestrictedUnpicklerTests
{
    private static void WriteCheckpoint(string path, byte[] pickle)
    {
        using var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create);
        using var entry = zip.CreateEntry("archive/data.pkl").Open();
        entry.Write(pickle);
    }

    [Fact]
    public void AGlobalThatRunsCodeIsRefusedBeforeUnpickling()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "pytorch_model.bin");
        // protocol 2: posix.system("touch pwned") via GLOBAL + REDUCE
        byte[] pickle = [0x80, 0x02, .. "cposix\nsystem\n"u8, (byte)'X', 11, 0, 0, 0, .. "touch pwned"u8, 0x85, (byte)'R', (byte)'.'];
        WriteCheckpoint(path, pickle);
        var error = Assert.Throws<UnsafePickleException>(() => RestrictedUnpickler.ReadStateDict(path));
        Assert.Contains("posix.system", error.Message);
        Assert.False(File.Exists(Path.Combine(folder.Path, "pwned")));
    }

    [Fact]
    public void AStackGlobalBuiltFromMemoisedStringsIsRefused()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "pytorch_model.bin");
        // protocol 4: "builtins" MEMOIZE, "eval" MEMOIZE, then GET both back before STACK_GLOBAL
        byte[] pickle = [0x80, 0x04, 0x8c, 8, .. "builtins"u8, 0x94, 0x8c, 4, .. "eval"u8, 0x94, (byte)'0', (byte)'0',
            (byte)'h', 0, (byte)'h', 1, 0x93, (byte)'.'];
        WriteCheckpoint(path, pickle);
        var error = Assert.Throws<UnsafePickleException>(() => RestrictedUnpickler.ReadStateDict(path));
        Assert.Contains("builtins.eval", error.Message);
    }
}
