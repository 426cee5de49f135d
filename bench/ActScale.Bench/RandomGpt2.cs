using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ActScale.Bench;

/// <summary>
/// GPT-2-shaped checkpoints with random weights, written once as Hugging Face folders so ActScale and the
/// PyTorch reference load exactly the same file through their own loaders.
/// </summary>
public static class RandomGpt2
{
    public static readonly Dictionary<string, (int Layers, int Width, int Heads)> Shapes = new()
    {
        ["small"] = (12, 768, 12),
        ["medium"] = (24, 1024, 16),
        ["xl"] = (48, 1600, 25),
    };

    public const int Vocabulary = 50257;

    /// <summary>Path of the folder for this shape, written (seeded) if it is not there yet.</summary>
    public static string Folder(string shape, int layers, int width, int heads, string tokenizerFolder, int context = 1024)
    {
        var folder = Path.Combine(Path.GetTempPath(), "actscale-bench", $"gpt2-{shape}-L{layers}");
        if (File.Exists(Path.Combine(folder, "model.safetensors"))) return folder;
        Directory.CreateDirectory(folder);
        var config = new JsonObject
        {
            ["model_type"] = "gpt2", ["n_layer"] = layers, ["n_embd"] = width, ["n_head"] = heads,
            ["n_positions"] = context, ["n_ctx"] = context, ["vocab_size"] = Vocabulary,
            ["layer_norm_epsilon"] = 1e-5, ["activation_function"] = "gelu_new",
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        foreach (var file in new[] { "vocab.json", "merges.txt" })
            File.Copy(Path.Combine(tokenizerFolder, file), Path.Combine(folder, file), overwrite: true);

        manual_seed(0);
        var tensors = new Dictionary<string, Tensor>();
        void Add(string name, params long[] shape) => tensors["transformer." + name] = randn(shape) * 0.02f;
        void Norm(string name) { tensors[$"transformer.{name}.weight"] = ones(width); tensors[$"transformer.{name}.bias"] = zeros(width); }
        Add("wte.weight", Vocabulary, width);
        Add("wpe.weight", context, width);
        Norm("ln_f");
        for (int l = 0; l < layers; l++)
        {
            var p = $"h.{l}.";
            Norm(p + "ln_1"); Norm(p + "ln_2");
            Add(p + "attn.c_attn.weight", width, 3 * width); Add(p + "attn.c_attn.bias", 3 * width);
            Add(p + "attn.c_proj.weight", width, width); Add(p + "attn.c_proj.bias", width);
            Add(p + "mlp.c_fc.weight", width, 4 * width); Add(p + "mlp.c_fc.bias", 4 * width);
            Add(p + "mlp.c_proj.weight", 4 * width, width); Add(p + "mlp.c_proj.bias", width);
        }
        var temporary = Path.Combine(folder, "model.safetensors.tmp");
        Safetensors.SaveStateDict(temporary, tensors);
        File.Move(temporary, Path.Combine(folder, "model.safetensors"), overwrite: true);
        foreach (var t in tensors.Values) t.Dispose();
        return folder;
    }

    /// <summary>
    /// Floating-point operations (2 per multiply-add) of one forward over rows×length tokens that projects only
    /// each row's last position to the vocabulary, as ActScale's training and evaluation do.
    /// </summary>
    public static double ForwardFlops(int layers, int width, long rows, long length)
    {
        double tokens = rows * length;
        double projections = layers * 12.0 * width * width;    // qkv 3d², out d², mlp 8d² per token
        double attention = layers * 2.0 * length * width;        // QKᵀ and AV, causal half of 4·T·d per token
        return 2 * (tokens * (projections + attention) + rows * (double)Vocabulary * width);
    }

    /// <summary>
    /// One training step: the forward over both β rows, then a backward that computes activation gradients only
    /// (weights are frozen), which costs about as much again.
    /// </summary>
    public static double TrainingStepFlops(int layers, int width, long batch, long length) => 2 * ForwardFlops(layers, width, 2 * batch, length);

    /// <summary>
    /// What that step must compute when only the last position's logits enter the loss (as ActScale's does): the last
    /// block needs keys and values at every position but its queries, attention output and MLP only at the last one.
    /// </summary>
    public static double ReducedTrainingStepFlops(int layers, int width, long batch, long length)
    {
        long rows = 2 * batch;
        double lastBlock = length * 2.0 * width * width + 10.0 * width * width + 2.0 * length * width;   // k,v everywhere; q, out, MLP, one query's attention
        return 2 * (ForwardFlops(layers - 1, width, rows, length) + 2 * rows * lastBlock);
    }
}
