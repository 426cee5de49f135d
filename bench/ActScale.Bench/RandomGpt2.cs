using System.Text.Json.Nodes;
using ActScale.Model;
using ActScale.Model.Architectures;
using static TorchSharp.torch;

namespace ActScale.Bench;

/// <summary>GPT-2-shaped models with random weights, built in memory through the same architecture code as a checkpoint.</summary>
public static class RandomGpt2
{
    public static readonly Dictionary<string, (int Layers, int Width, int Heads)> Shapes = new()
    {
        ["small"] = (12, 768, 12),
        ["medium"] = (24, 1024, 16),
    };

    public static TransformerModel Build(int layers, int width, int heads, Device device, int context = 1024, int vocabulary = 50257)
    {
        var raw = new JsonObject
        {
            ["model_type"] = "gpt2", ["n_layer"] = layers, ["n_embd"] = width, ["n_head"] = heads,
            ["n_positions"] = context, ["vocab_size"] = vocabulary,
        };
        var architecture = new Gpt2Architecture();
        var config = architecture.ReadConfig(raw, "(in memory)");
        var tensors = new Dictionary<string, StoredTensor>();
        void Add(string name, params long[] shape) => tensors["transformer." + name] = StoredTensor.Loaded(randn(shape) * 0.02f, "(random)");
        Add("wte.weight", vocabulary, width);
        Add("wpe.weight", context, width);
        Add("ln_f.weight", width); Add("ln_f.bias", width);
        for (int l = 0; l < layers; l++)
        {
            var p = $"h.{l}.";
            Add(p + "ln_1.weight", width); Add(p + "ln_1.bias", width);
            Add(p + "ln_2.weight", width); Add(p + "ln_2.bias", width);
            Add(p + "attn.c_attn.weight", width, 3 * width); Add(p + "attn.c_attn.bias", 3 * width);
            Add(p + "attn.c_proj.weight", width, width); Add(p + "attn.c_proj.bias", width);
            Add(p + "mlp.c_fc.weight", width, 4 * width); Add(p + "mlp.c_fc.bias", 4 * width);
            Add(p + "mlp.c_proj.weight", 4 * width, width); Add(p + "mlp.c_proj.bias", width);
        }
        using var weights = new WeightTable(tensors, device, ScalarType.Float32);
        return architecture.Build(config, weights, device, ScalarType.Float32);
    }

    /// <summary>Multiply-adds ×2 of one forward over batch×length tokens, projecting only the last position to the vocabulary.</summary>
    public static double ForwardFlops(int layers, int width, long batch, long length, long vocabulary, bool allPositionsToVocabulary)
    {
        double tokens = batch * length;
        double perTokenMatmuls = layers * 12.0 * width * width; // qkv 3d², out d², mlp 8d²
        double attention = layers * 2.0 * length * width;        // scores and weighted sum, causal ≈ half of 4·T·d
        double head = (allPositionsToVocabulary ? tokens : batch) * vocabulary * width;
        return 2 * (tokens * (perTokenMatmuls + attention) + head);
    }
}
