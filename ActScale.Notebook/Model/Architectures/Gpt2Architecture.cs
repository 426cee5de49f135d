using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ActScale.Model.Architectures;

/// <summary>
/// GPT-2 (Small to XL) in Hugging Face's layout: learned positions, pre-LN blocks, fused QKV, Conv1D weights
/// stored [in, out], the tanh-approximated GELU, and the LM head tied to the token embedding.
/// </summary>
public sealed class Gpt2Architecture : IArchitecture
{
    public IReadOnlyList<string> ModelTypes { get; } = ["gpt2"];

    public ModelConfig ReadConfig(JsonObject raw, string configPath) => new(
        "gpt2",
        ModelConfig.Int(raw, configPath, "n_layer"),
        ModelConfig.Int(raw, configPath, "n_embd"),
        ModelConfig.Int(raw, configPath, "n_head"),
        ModelConfig.OptionalInt(raw, "n_positions") ?? ModelConfig.Int(raw, configPath, "n_ctx"),
        ModelConfig.Int(raw, configPath, "vocab_size"),
        ModelConfig.OptionalDouble(raw, "layer_norm_epsilon") ?? 1e-5,
        ModelConfig.OptionalString(raw, "activation_function") ?? "gelu_new",
        raw);

    public TransformerModel Build(ModelConfig config, WeightTable weights, Device device, ScalarType dtype)
    {
        int d = config.Width;
        string Name(string suffix) => weights.Resolve("transformer." + suffix, suffix) ?? "transformer." + suffix;
        LayerNorm Norm(string prefix) => new(weights.Take(Name(prefix + ".weight"), d), weights.Take(Name(prefix + ".bias"), d), config.NormEpsilon);
        Linear Conv1D(string prefix, int inFeatures, int outFeatures) =>
            new(weights.TakeTransposed(Name(prefix + ".weight"), inFeatures, outFeatures), weights.Take(Name(prefix + ".bias"), outFeatures));

        var tokenEmbedding = weights.Take(Name("wte.weight"), config.VocabularySize, d);
        var positionEmbedding = weights.Take(Name("wpe.weight"), config.ContextLength, d);
        var activation = Activations.Named(config.Activation);

        var blocks = new List<DecoderBlock>();
        for (int l = 0; l < config.LayerCount; l++)
        {
            var p = $"h.{l}";
            var attention = new CausalSelfAttention(
                new FusedQkvProjection(Conv1D(p + ".attn.c_attn", d, 3 * d)),
                Conv1D(p + ".attn.c_proj", d, d), config.HeadCount, config.HeadCount, config.HeadDim);
            var mlp = new FeedForward(Conv1D(p + ".mlp.c_fc", d, 4 * d), Conv1D(p + ".mlp.c_proj", 4 * d, d), activation);
            blocks.Add(new DecoderBlock(l, Norm(p + ".ln_1"), attention, Norm(p + ".ln_2"), mlp, parallelResidual: false));
        }
        var finalNorm = Norm("ln_f");

        // Some exports store an untied head; GPT-2 ties it to the token embedding.
        var headName = weights.Resolve("lm_head.weight");
        var unembedding = headName is null ? tokenEmbedding : weights.Take(headName, config.VocabularySize, d);

        // Learned absolute positions: 0..t−1, or each row's own (left-padded or cached generation).
        Tensor Embed(Tensor ids, Tensor? rowPositions)
        {
            using var scope = NewDisposeScope();
            var positions = rowPositions ?? arange(ids.shape[1], device: device).expand(ids.shape);
            return (Embeddings.Lookup(tokenEmbedding, ids) + Embeddings.Lookup(positionEmbedding, positions)).MoveToOuterDisposeScope();
        }

        IDisposable[] owned = headName is null ? [tokenEmbedding, positionEmbedding] : [tokenEmbedding, positionEmbedding, unembedding];
        return new TransformerModel(config, Embed, blocks, finalNorm, unembedding, device, dtype, owned);
    }
}
