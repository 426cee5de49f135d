using System.Text;
using System.Text.Json.Nodes;
using ActScale.Model;
using ActScale.Tests.Support;
using static TorchSharp.torch;

namespace ActScale.Tests.Reliability;

/// <summary>
/// Checkpoints that a careless copy or a hostile author could produce, written by code from the tiny GPT-2: each must
/// be refused with a message that names the file and the tensor or setting at fault, never load into a wrong model.
/// </summary>
public class HostileCheckpointTests
{
    private static readonly TinyCheckpoints.Gpt2Shape Small = new(Layers: 2, Width: 8, Heads: 2, Context: 16);

    private static string Weights(TinyCheckpoints.TempFolder folder) => Path.Combine(folder.Path, "model.safetensors");

    /// <summary>Rewrites the safetensors header in place, keeping the data bytes after it.</summary>
    internal static void EditHeader(string file, Action<JsonObject> edit) => EditHeaderText(file, text =>
    {
        var header = (JsonObject)JsonNode.Parse(text)!;
        edit(header);
        return Encoding.UTF8.GetBytes(header.ToJsonString());
    });

    /// <summary>Replaces the header's raw bytes (which need not be valid JSON or UTF-8), keeping the data bytes after it.</summary>
    private static void EditHeaderText(string file, Func<byte[], byte[]> edit)
    {
        var bytes = File.ReadAllBytes(file);
        long length = BitConverter.ToInt64(bytes, 0);
        var newHeader = edit(bytes[8..(8 + (int)length)]);
        using var output = File.Create(file);
        output.Write(BitConverter.GetBytes((long)newHeader.Length));
        output.Write(newHeader);
        output.Write(bytes.AsSpan(8 + (int)length));
    }

    private static InvalidDataException LoadFails(TinyCheckpoints.TempFolder folder) =>
        Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder.Path, "cpu"));

    private static void EditConfig(TinyCheckpoints.TempFolder folder, Action<JsonObject> edit)
    {
        var path = Path.Combine(folder.Path, "config.json");
        var config = (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
    }

    [Theory]
    [InlineData(0)]   // the second tensor starts where the first one does
    [InlineData(8)]   // a partial overlap of 8 bytes
    public void OverlappingDataOffsetsAreRefusedNamingBothTensors(int shift)
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        EditHeader(Weights(folder), header =>
        {
            var a = header["transformer.h.0.ln_1.bias"]!["data_offsets"]!.AsArray();
            var b = header["transformer.h.0.ln_1.weight"]!["data_offsets"]!.AsArray();
            long start = a[0]!.GetValue<long>() + shift, span = b[1]!.GetValue<long>() - b[0]!.GetValue<long>();
            header["transformer.h.0.ln_1.weight"]!["data_offsets"] = new JsonArray(start, start + span);
        });
        var error = LoadFails(folder);
        Assert.Contains("overlap", error.Message);
        Assert.Contains("transformer.h.0.ln_1.bias", error.Message);
        Assert.Contains("transformer.h.0.ln_1.weight", error.Message);
    }

    [Fact]
    public void ReversedDataOffsetsAreRefused()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        EditHeader(Weights(folder), header => header["transformer.ln_f.bias"]!["data_offsets"] = new JsonArray(64, 32));
        Assert.Contains("transformer.ln_f.bias", LoadFails(folder).Message);
    }

    [Theory]
    [InlineData("I16")]
    [InlineData("I32")]
    [InlineData("U8")]
    public void IntegerDtypeWithTheRightByteCountIsRefused(string dtype)
    {
        using var folder = TinyCheckpoints.NewFolder();
        // F16 weights relabelled I16 (and F32 as I32) have exactly the bytes the shape needs.
        TinyCheckpoints.WriteGpt2(folder.Path, Small, dtype: dtype == "I16" ? ScalarType.Float16 : ScalarType.Float32);
        EditHeader(Weights(folder), header =>
        {
            var entry = header["transformer.h.1.mlp.c_fc.bias"]!;
            entry["dtype"] = dtype;
            if (dtype == "U8") entry["shape"] = new JsonArray(4 * 32L); // 32 floats = 128 bytes
        });
        var error = LoadFails(folder);
        Assert.Contains("transformer.h.1.mlp.c_fc.bias", error.Message);
    }

    [Theory]
    [InlineData("{\"shape\": \"eight\"}")]
    [InlineData("{\"shape\": [-8]}")]
    [InlineData("{\"dtype\": 7}")]
    [InlineData("{\"data_offsets\": [0]}")]
    public void MalformedHeaderEntriesNameTheTensor(string patch)
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        EditHeader(Weights(folder), header =>
        {
            var entry = header["transformer.ln_f.weight"]!.AsObject();
            foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject()) entry[key] = value?.DeepClone();
        });
        var error = LoadFails(folder);
        Assert.Contains("transformer.ln_f.weight", error.Message);
        Assert.Contains(Weights(folder), error.Message);
    }

    [Fact]
    public void DuplicateHeaderKeysAreRefused()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        var file = Weights(folder);
        EditHeaderText(file, header =>
        {
            var text = Encoding.UTF8.GetString(header);
            var (name, node) = ((JsonObject)JsonNode.Parse(text)!).First(kv => kv.Key != "__metadata__");
            return Encoding.UTF8.GetBytes(text.TrimEnd()[..^1] + $",\"{name}\":{node!.ToJsonString()}}}");
        });
        var error = LoadFails(folder);
        Assert.Contains(file, error.Message);
    }

    [Fact]
    public void TensorInTwoShardsIsTakenFromTheShardTheIndexNames()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        // Shard A: everything (the true weights). Shard B: a NaN copy of one tensor, which would be refused if it were
        // read. The index puts that tensor in A.
        var a = Path.Combine(folder.Path, "model-00001-of-00002.safetensors");
        var b = Path.Combine(folder.Path, "model-00002-of-00002.safetensors");
        File.Move(Weights(folder), a);
        var decoy = new Dictionary<string, Tensor> { ["transformer.ln_f.weight"] = full(8, float.NaN) };
        TorchSharp.PyBridge.Safetensors.SaveStateDict(b, decoy);
        var map = new JsonObject();
        foreach (var name in SafetensorsHeader.Entries(a).Select(e => e.Name)) map[name] = Path.GetFileName(a);
        WriteIndex(folder, map);
        using (LanguageModel.Load(folder.Path, "cpu")) { }

        // An index that puts a tensor in a shard that lacks it is refused by name.
        map["transformer.ln_f.bias"] = Path.GetFileName(b);
        WriteIndex(folder, map);
        var error = LoadFails(folder);
        Assert.Contains("transformer.ln_f.bias", error.Message);
    }

    private static void WriteIndex(TinyCheckpoints.TempFolder folder, JsonObject map) =>
        File.WriteAllText(Path.Combine(folder.Path, "model.safetensors.index.json"), new JsonObject { ["weight_map"] = map.DeepClone() }.ToJsonString());

    [Fact]
    public void BrokenShardIndexNamesTheFile()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        File.Delete(Weights(folder));
        var index = Path.Combine(folder.Path, "model.safetensors.index.json");
        foreach (var text in new[] { "{\"weight_map\": ", "{\"weight_map\": {\"x\": 3}}", "[1]", "{\"weight_map\": {\"x\": \"../../etc/passwd\"}}" })
        {
            File.WriteAllText(index, text);
            Assert.Contains(index, LoadFails(folder).Message);
        }
    }

    [Fact]
    public void ExtraLayersBeyondNLayerAreRefusedByName()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        EditConfig(folder, c => c["n_layer"] = 1);
        var error = LoadFails(folder);
        Assert.Contains("transformer.h.1.", error.Message);
        Assert.Contains("n_layer", error.Message);
    }

    [Fact]
    public void HuggingFaceCausalMaskBuffersMayBeLeftUnused()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small, edit: t =>
        {
            t["transformer.h.0.attn.bias"] = ones(1, 1, 16, 16).tril();
            t["transformer.h.0.attn.masked_bias"] = tensor(-1e4f);
        });
        using var model = LanguageModel.Load(folder.Path, "cpu");
        Assert.Equal(2, model.Config.LayerCount);
    }

    [Theory]
    [InlineData("n_layer", 0, "layers")]
    [InlineData("n_layer", -2, "layers")]
    [InlineData("n_head", 0, "heads")]
    [InlineData("n_head", 3, "divisible")]
    [InlineData("n_embd", -8, "width")]
    [InlineData("vocab_size", -1, "vocab_size")]
    [InlineData("n_positions", 0, "context")]
    [InlineData("layer_norm_epsilon", -1, "epsilon")]
    [InlineData("layer_norm_epsilon", 0, "epsilon")]
    public void ImpossibleConfigValuesAreRefusedBeforeAnyWeightIsRead(string key, double value, string said)
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        EditConfig(folder, c => c[key] = key == "layer_norm_epsilon" ? value : (int)value);
        var error = LoadFails(folder);
        Assert.Contains("config.json", error.Message);
        Assert.Contains(said, error.Message);
    }

    [Theory]
    [InlineData("n_layer", "\"two\"")]
    [InlineData("layer_norm_epsilon", "\"small\"")]
    [InlineData("activation_function", "{\"name\": \"gelu\"}")]
    [InlineData("model_type", "7")]
    public void ConfigValuesOfTheWrongTypeNameTheKey(string key, string json)
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        EditConfig(folder, c => c[key] = JsonNode.Parse(json));
        var error = LoadFails(folder);
        Assert.Contains("config.json", error.Message);
        Assert.Contains(key, error.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFiniteWeightsAreRefusedNamingTheTensor(float bad)
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small, edit: t => t["transformer.h.1.attn.c_proj.weight"][3, 5] = bad);
        var error = LoadFails(folder);
        Assert.Contains("transformer.h.1.attn.c_proj.weight", error.Message);
        Assert.Contains("NaN or infinite", error.Message);
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("config.json")]
    public void NamedPipeIsRefusedWithoutBlocking(string file)
    {
        if (!OperatingSystem.IsLinux()) return;
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        var error = NamedPipes.RefusedWithoutBlocking(Path.Combine(folder.Path, file), () => LanguageModel.Load(folder.Path, "cpu"));
        Assert.IsType<InvalidDataException>(error);
    }

    [Fact]
    public void InvalidUtf8InATensorNameIsReportedAsACorruptHeader()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        var file = Weights(folder);
        EditHeaderText(file, header =>
        {
            header[Array.IndexOf(header, (byte)'w')] = 0xFF; // inside the first tensor name ("...wte..." or "...weight")
            return header;
        });
        var error = LoadFails(folder);
        Assert.Contains(file, error.Message);
        Assert.Contains("UTF-8", error.Message);
    }

    [Fact]
    public void DuplicateConfigKeysNameTheConfig()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        var config = Path.Combine(folder.Path, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("{", "{\"n_layer\": 1, "));
        var error = LoadFails(folder);
        Assert.Contains(config, error.Message);
    }

    [Theory]
    [InlineData("{\"model\": [1, 2]}")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"pre_tokenizer\": \"ByteLevel\"}")]
    [InlineData("{\"model\": {\"type\": \"BPE\"}, \"model\": {}}")]
    public void AMalformedTokenizerJsonIsExplained(string json)
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        File.Delete(Path.Combine(folder.Path, "vocab.json"));
        File.Delete(Path.Combine(folder.Path, "merges.txt"));
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer.json"), json);
        var error = Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("tokenizer.json there is not usable", error.Message);
        Assert.Contains(folder.Path, error.Message);
    }

    [Fact]
    public void ANamedPipeTokenizerFileIsRefused()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path, Small);
        NamedPipes.RefusedWithoutBlocking(Path.Combine(folder.Path, "tokenizer.json"), () => LanguageModel.Load(folder.Path, "cpu"));
    }

    [Fact]
    public void ATiedLlamaIgnoresAStoredHeadCopyButRefusesExtraLayers()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyFamilyCheckpoints.WriteLlama(folder.Path, new TinyFamilyCheckpoints.LlamaShape()); // stores lm_head.weight
        EditConfig(folder, c => c["tie_word_embeddings"] = true);
        using (var model = LanguageModel.Load(folder.Path, "cpu")) Assert.Equal(2, model.Config.LayerCount);

        EditConfig(folder, c => c["num_hidden_layers"] = 1);
        var error = LoadFails(folder);
        Assert.Contains("model.layers.1.", error.Message);
    }
}
