using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ActScale.Model.Architectures;

/// <summary>
/// GPT-NeoX (Pythia) in Hugging Face's layout: LayerNorm pre-norm blocks, by default with a parallel residual
/// (attention and MLP both read the block input), one fused q/k/v projection laid out per head, rotary
/// embedding on the first <c>rotary_pct</c> of each head, a GELU MLP and an untied head (<c>embed_out</c>).
/// </summary>
public sealed class GptNeoXArchitecture : IArchitecture
{
    public IReadOnlyList<string> ModelTypes { get; } = ["gpt_neox"];

    public ModelConfig ReadConfig(JsonObject raw, string configPath)
    {
        int width = ModelConfig.Int(raw, configPath, "hidden_size");
        int heads = ModelConfig.Int(raw, configPath, "num_attention_heads");
        if (width % heads != 0)
            throw new InvalidDataException($"'{configPath}' has hidden_size {width}, not a multiple of its {heads} heads.");
        Rotary(raw, width / heads).Check(configPath);
        return new ModelConfig(
            "gpt_neox",
            ModelConfig.Int(raw, configPath, "num_hidden_layers"),
            width,
            heads,
            ModelConfig.OptionalInt(raw, "max_position_embeddings") ?? 2048,
            ModelConfig.Int(raw, configPath, "vocab_size"),
            ModelConfig.OptionalDouble(raw, "layer_norm_eps") ?? 1e-5,
            ModelConfig.OptionalString(raw, "hidden_act") ?? "gelu",
            raw);
    }

    /// <summary>HF: rotary_ndims = int(head_size · rotary_pct); θ is rotary_emb_base.</summary>
    private static RotarySettings Rotary(JsonObject raw, int headDim) => RotarySettings.Read(raw,
        (int)(headDim * (ModelConfig.OptionalDouble(raw, "rotary_pct") ?? ModelConfig.OptionalDouble(raw, "partial_rotary_factor") ?? 0.25)),
        ModelConfig.OptionalDouble(raw, "rotary_emb_base") ?? ModelConfig.OptionalDouble(raw, "rope_theta") ?? 10000.0);

    public TransformerModel Build(ModelConfig config, WeightTable weights, Device device, ScalarType dtype)
    {
        var raw = config.Raw;
        int d = config.Width, heads = config.HeadCount, hd = config.HeadDim;
        int intermediate = ModelConfig.OptionalInt(raw, "intermediate_size") ?? 4 * d;
        bool attentionBias = ModelConfig.OptionalBool(raw, "attention_bias") ?? true;
        bool parallel = ModelConfig.OptionalBool(raw, "use_parallel_residual") ?? true;

        string Name(string suffix) => weights.Resolve("gpt_neox." + suffix, suffix) ?? "gpt_neox." + suffix;
        Linear Dense(string prefix, int inFeatures, int outFeatures, bool bias = true) =>
            new(weights.Take(Name(prefix + ".weight"), outFeatures, inFeatures), bias ? weights.Take(Name(prefix + ".bias"), outFeatures) : null);
        LayerNorm Norm(string prefix) => new(weights.Take(Name(prefix + ".weight"), d), weights.Take(Name(prefix + ".bias"), d), config.NormEpsilon);

        // The checkpoint's fused projection yields, per head, q | k | v (rows [heads, 3, headDim]). Reordering the
        // rows once to [3, heads, headDim] lets the shared FusedQkvProjection split it like GPT-2's.
        Linear FusedQkv(string prefix)
        {
            Tensor Regroup(Tensor perHead, params long[] tail)
            {
                using (perHead)
                using (var grouped = perHead.view([heads, 3, hd, .. tail]))
                using (var swapped = grouped.transpose(0, 1))
                    return swapped.reshape([3L * heads * hd, .. tail]).contiguous();
            }
            var weight = Regroup(weights.Take(Name(prefix + ".weight"), 3 * d, d), d);
            var bias = attentionBias ? Regroup(weights.Take(Name(prefix + ".bias"), 3 * d)) : null;
            return new Linear(weight, bias);
        }

        var tokenEmbedding = weights.Take(Name("embed_in.weight"), config.VocabularySize, d);
        var activation = Activations.Named(config.Activation);
        var rotary = Rotary(raw, hd).Embedding(device, dtype);

        var blocks = new List<DecoderBlock>();
        for (int l = 0; l < config.LayerCount; l++)
        {
            var p = $"layers.{l}";
            var attention = new CausalSelfAttention(
                new FusedQkvProjection(FusedQkv(p + ".attention.query_key_value")),
                Dense(p + ".attention.dense", d, d, attentionBias), heads, heads, hd, rotary);
            var mlp = new FeedForward(Dense(p + ".mlp.dense_h_to_4h", d, intermediate), Dense(p + ".mlp.dense_4h_to_h", intermediate, d), activation);
            blocks.Add(new DecoderBlock(l, Norm(p + ".input_layernorm"), attention, Norm(p + ".post_attention_layernorm"), mlp, parallel));
        }
        var finalNorm = Norm("final_layer_norm");

        bool tied = ModelConfig.OptionalBool(raw, "tie_word_embeddings") ?? false;
        var headName = weights.Resolve("embed_out.weight");
        if (!tied && headName is null)
            throw new InvalidDataException("The checkpoint has no 'embed_out.weight' (GPT-NeoX's output head); the weights are incomplete.");
        var unembedding = tied ? tokenEmbedding : weights.Take(headName!, config.VocabularySize, d);
        if (tied && headName is not null) weights.Ignore(headName);

        IDisposable[] owned = tied ? [tokenEmbedding, rotary] : [tokenEmbedding, unembedding, rotary];
        return new TransformerModel(config, (ids, _) => Embeddings.Lookup(tokenEmbedding, ids), blocks, finalNorm, unembedding, device, dtype, owned);
    }
}
