using System.Text.Json.Nodes;
using ActScale.Model;
using ActScale.Tests.Support;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ActScale.Tests.Model;

/// <summary>Config reading of the Llama and GPT-NeoX families, and the other checkpoint encodings they load from.</summary>
public class FamilyLoadingTests
{
    private static ModelConfig ReadConfig(JsonObject changes, string fixture = "tiny-llama")
    {
        using var folder = TinyCheckpoints.NewFolder();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(FamilyFixtures.Folder(fixture), "config.json")))!.AsObject();
        foreach (var (key, value) in changes) config[key] = value?.DeepClone();
        var path = Path.Combine(folder.Path, "config.json");
        File.WriteAllText(path, config.ToJsonString());
        return ModelConfig.Read(path);
    }

    [Fact]
    public void LlamaConfigReadsGroupedHeadsAndHeadDim()
    {
        var config = ReadConfig([]);
        Assert.Equal((4, 2, 12, 32), (config.HeadCount, config.KeyValueHeadCount, config.HeadDim, config.Width));
        var plain = ReadConfig(new JsonObject { ["head_dim"] = null, ["num_key_value_heads"] = null });
        Assert.Equal((4, 8), (plain.KeyValueHeadCount, plain.HeadDim));
    }

    [Fact]
    public void UnsupportedRopeScalingIsRefusedByName()
    {
        var error = Assert.Throws<NotSupportedException>(() =>
            ReadConfig(new JsonObject { ["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 } }));
        Assert.Contains("yarn", error.Message);
        Assert.Contains("linear, llama3", error.Message);
    }

    [Fact]
    public void MistralSlidingWindowCapsTheContextAndQwen2IgnoresAnUnusedOne()
    {
        var mistral = ReadConfig(new JsonObject { ["model_type"] = "mistral", ["sliding_window"] = 16 });
        Assert.Equal(16, mistral.ContextLength);
        Assert.Equal(64, ReadConfig(new JsonObject { ["model_type"] = "mistral", ["sliding_window"] = null }).ContextLength);
        Assert.Equal(64, ReadConfig([], "tiny-qwen2").ContextLength); // sliding_window 32 with use_sliding_window false
    }

    [Fact]
    public void PromptLongerThanASlidingWindowIsRefused()
    {
        using var folder = TinyCheckpoints.NewFolder();
        foreach (var file in Directory.GetFiles(FamilyFixtures.Folder("tiny-llama"))) File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        var configPath = Path.Combine(folder.Path, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["model_type"] = "mistral";
        config["sliding_window"] = 8;
        File.WriteAllText(configPath, config.ToJsonString());
        using var model = LanguageModel.Load(folder.Path, "cpu");
        using var ids = tensor(FamilyFixtures.Prompt).unsqueeze(0);
        var error = Assert.Throws<ArgumentException>(() => model.Transformer.Logits(ids).Dispose());
        Assert.Contains("sliding_window 8", error.Message);
    }

    /// <summary>BF16 weights convert per tensor on load: the same weights stored as BF16 or as F32 give identical logits.</summary>
    [Fact]
    public void Bfloat16CheckpointLoadsLikeItsFloat32Copy()
    {
        using var bf16 = TinyCheckpoints.NewFolder();
        using var f32 = TinyCheckpoints.NewFolder();
        foreach (var file in Directory.GetFiles(FamilyFixtures.Folder("tiny-gpt-neox")).Where(f => !f.EndsWith(".safetensors")))
        {
            File.Copy(file, Path.Combine(bf16.Path, Path.GetFileName(file)));
            File.Copy(file, Path.Combine(f32.Path, Path.GetFileName(file)));
        }
        ActScale.Runtime.TorchNativeLoader.EnsureLoadable();
        var tensors = Safetensors.LoadStateDict(Path.Combine(FamilyFixtures.Folder("tiny-gpt-neox"), "model.safetensors"));
        var halved = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.BFloat16));
        var widened = halved.ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32));
        Safetensors.SaveStateDict(Path.Combine(bf16.Path, "model.safetensors"), halved);
        Safetensors.SaveStateDict(Path.Combine(f32.Path, "model.safetensors"), widened);
        foreach (var t in tensors.Values.Concat(halved.Values).Concat(widened.Values)) t.Dispose();

        using var a = LanguageModel.Load(bf16.Path, "cpu");
        using var b = LanguageModel.Load(f32.Path, "cpu");
        Assert.Equal(ScalarType.Float32, a.Transformer.DType);
        using var ids = tensor(FamilyFixtures.Prompt).unsqueeze(0);
        using var la = a.Transformer.Logits(ids);
        using var lb = b.Transformer.Logits(ids);
        Assert.True(la.equal(lb).all().item<bool>());
    }

    /// <summary>
    /// pytorch_model.bin (read eagerly through the restricted unpickler) and sharded safetensors
    /// (model.safetensors.index.json, read shard by shard) give the same model as one safetensors file.
    /// </summary>
    [Theory]
    [InlineData("tiny-llama", "pytorch_model.bin")]
    [InlineData("tiny-gpt-neox", "pytorch_model.bin")]
    [InlineData("tiny-llama", "sharded")]
    [InlineData("tiny-gpt-neox", "sharded")]
    public void OtherStorageFormatsLoadLikeOneSafetensorsFile(string fixture, string storage)
    {
        using var folder = TinyCheckpoints.NewFolder();
        var source = FamilyFixtures.Folder(fixture);
        foreach (var file in Directory.GetFiles(source).Where(f => !f.EndsWith(".safetensors")))
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        ActScale.Runtime.TorchNativeLoader.EnsureLoadable();
        var tensors = Safetensors.LoadStateDict(Path.Combine(source, "model.safetensors"));
        if (storage == "sharded") WriteShards(folder.Path, tensors);
        else
            using (var stream = File.Create(Path.Combine(folder.Path, "pytorch_model.bin")))
                PyTorchPickler.PickleStateDict(stream, tensors);
        foreach (var t in tensors.Values) t.Dispose();

        using (var stored = LanguageModel.Load(folder.Path, "cpu"))
        using (var single = LanguageModel.Load(source, "cpu"))
        using (var ids = tensor(FamilyFixtures.Prompt).unsqueeze(0))
        using (var la = stored.Transformer.Logits(ids))
        using (var lb = single.Transformer.Logits(ids))
            Assert.True(la.equal(lb).all().item<bool>());
        if (storage != "sharded") return;
        File.Delete(Path.Combine(folder.Path, "model-00002-of-00002.safetensors"));
        var error = Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("model-00002-of-00002.safetensors", error.Message);
    }

    /// <summary>Splits the tensors over two shards and writes the index that names them.</summary>
    private static void WriteShards(string folder, Dictionary<string, Tensor> tensors)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        var weightMap = new JsonObject();
        for (int shard = 0; shard < 2; shard++)
        {
            var file = $"model-{shard + 1:D5}-of-00002.safetensors";
            var part = names.Where((_, i) => i % 2 == shard).ToDictionary(n => n, n => tensors[n]);
            Safetensors.SaveStateDict(Path.Combine(folder, file), part);
            foreach (var name in part.Keys) weightMap[name] = file;
        }
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), new JsonObject { ["weight_map"] = weightMap }.ToJsonString());
    }

    [Fact]
    public void WrongTensorShapeNamesTheTensorAndFile()
    {
        using var folder = TinyCheckpoints.NewFolder();
        foreach (var file in Directory.GetFiles(FamilyFixtures.Folder("tiny-qwen2"))) File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        var configPath = Path.Combine(folder.Path, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["num_key_value_heads"] = 2;
        File.WriteAllText(configPath, config.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder.Path, "cpu"));
        Assert.Contains("model.layers.0.self_attn.k_proj.weight", error.Message);
        Assert.Contains("model.safetensors", error.Message);
    }
}
