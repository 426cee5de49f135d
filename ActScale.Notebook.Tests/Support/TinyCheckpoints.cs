using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ActScale.Tests.Support;

/// <summary>Writes small random Hugging Face GPT-2 checkpoint folders for tests (real tokenizer, random weights).</summary>
public static class TinyCheckpoints
{
    public sealed record Gpt2Shape(int Layers = 2, int Width = 32, int Heads = 4, int Context = 64, int Vocabulary = 50257);

    /// <summary>
    /// Weights come from System.Random, so the same seed writes the same file on every machine.
    /// <paramref name="dtype"/> F16 keeps committed fixtures small; the loader converts on load.
    /// </summary>
    public static string WriteGpt2(string folder, Gpt2Shape? shape = null, int seed = 1, Action<Dictionary<string, Tensor>>? edit = null,
        ScalarType dtype = ScalarType.Float32)
    {
        shape ??= new Gpt2Shape();
        ActScale.Runtime.TorchNativeLoader.EnsureLoadable();
        Directory.CreateDirectory(folder);
        var config = new JsonObject
        {
            ["model_type"] = "gpt2", ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["n_layer"] = shape.Layers, ["n_embd"] = shape.Width, ["n_head"] = shape.Heads,
            ["n_positions"] = shape.Context, ["n_ctx"] = shape.Context, ["vocab_size"] = shape.Vocabulary,
            ["layer_norm_epsilon"] = 1e-5, ["activation_function"] = "gelu_new",
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        foreach (var file in new[] { "vocab.json", "merges.txt" })
            File.Copy(Path.Combine(RepoPaths.Gpt2Tokenizer, file), Path.Combine(folder, file), overwrite: true);

        var random = new Random(seed);
        Tensor Uniform(long[] dims, float center, float spread)
        {
            var values = new float[dims.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++) values[i] = center + spread * (2 * random.NextSingle() - 1);
            return tensor(values, dims).to(dtype);
        }
        Tensor Rand(params long[] dims) => Uniform(dims, 0f, 0.35f);
        Tensor NormWeight(long d) => Uniform([d], 1f, 0.2f);
        int w = shape.Width;
        var tensors = new Dictionary<string, Tensor>
        {
            ["transformer.wte.weight"] = Rand(shape.Vocabulary, w),
            ["transformer.wpe.weight"] = Rand(shape.Context, w),
            ["transformer.ln_f.weight"] = NormWeight(w),
            ["transformer.ln_f.bias"] = Rand(w),
        };
        for (int l = 0; l < shape.Layers; l++)
        {
            var p = $"transformer.h.{l}.";
            tensors[p + "ln_1.weight"] = NormWeight(w); tensors[p + "ln_1.bias"] = Rand(w);
            tensors[p + "ln_2.weight"] = NormWeight(w); tensors[p + "ln_2.bias"] = Rand(w);
            tensors[p + "attn.c_attn.weight"] = Rand(w, 3 * w); tensors[p + "attn.c_attn.bias"] = Rand(3 * w);
            tensors[p + "attn.c_proj.weight"] = Rand(w, w); tensors[p + "attn.c_proj.bias"] = Rand(w);
            tensors[p + "mlp.c_fc.weight"] = Rand(w, 4 * w); tensors[p + "mlp.c_fc.bias"] = Rand(4 * w);
            tensors[p + "mlp.c_proj.weight"] = Rand(4 * w, w); tensors[p + "mlp.c_proj.bias"] = Rand(w);
        }
        edit?.Invoke(tensors);
        Safetensors.SaveStateDict(Path.Combine(folder, "model.safetensors"), tensors);
        foreach (var t in tensors.Values) t.Dispose();
        return folder;
    }

    /// <summary>A fresh temporary folder, deleted by the caller's using.</summary>
    public static TempFolder NewFolder() => new();

    public sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("actscale-test-").FullName;
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }
}
