using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ActScale.Model.Architectures;

/// <summary>
/// The Llama family in Hugging Face's layout (Llama 2/3, SmolLM, Qwen2/2.5, Mistral without a binding sliding
/// window): RMSNorm pre-norm blocks, separate q/k/v projections with grouped key/value heads, RoPE in the
/// rotate_half layout, a SwiGLU MLP, and a head tied to the embedding or stored as <c>lm_head.weight</c>.
/// </summary>
public sealed class LlamaArchitecture : IArchitecture
{
    public IReadOnlyList<string> ModelTypes { get; } = ["llama", "qwen2", "mistral"];

    public ModelConfig ReadConfig(JsonObject raw, string configPath)
    {
        var modelType = ModelConfig.OptionalString(raw, "model_type")!;
        int width = ModelConfig.Int(raw, configPath, "hidden_size");
        int heads = ModelConfig.Int(raw, configPath, "num_attention_heads");
        int keyValueHeads = ModelConfig.OptionalInt(raw, "num_key_value_heads") ?? heads;
        if (heads % keyValueHeads != 0)
            throw new InvalidDataException($"'{configPath}' has {heads} attention heads, not a multiple of its {keyValueHeads} key/value heads.");
        int headDim = ModelConfig.OptionalInt(raw, "head_dim") ?? width / heads;
        int context = ModelConfig.OptionalInt(raw, "max_position_embeddings") ?? 2048;

        // Mistral v0.1 (and Qwen2 with use_sliding_window) restrict each token to the last `sliding_window` keys.
        // Up to that many tokens this is plain causal attention, so the usable context is capped there; beyond it
        // ActScale would compute something else, and a longer prompt is refused by the context check.
        bool slidingUsed = modelType != "qwen2" || ModelConfig.OptionalBool(raw, "use_sliding_window") == true;
        string? contextLimit = null;
        if (slidingUsed && ModelConfig.OptionalInt(raw, "sliding_window") is int window && window < context)
        {
            if (window <= 0) throw new InvalidDataException($"'{configPath}' has sliding_window {window}.");
            contextLimit = $"capped from max_position_embeddings {context} at sliding_window {window}: ActScale computes full causal " +
                           "attention, which equals sliding-window attention only up to the window";
            context = window;
        }

        // Rope settings are read here so a config ActScale cannot run fails before any weight is read.
        Rotary(raw, headDim).Check(configPath);

        return new ModelConfig(
            modelType,
            ModelConfig.Int(raw, configPath, "num_hidden_layers"),
            width,
            heads,
            context,
            ModelConfig.Int(raw, configPath, "vocab_size"),
            ModelConfig.OptionalDouble(raw, "rms_norm_eps") ?? 1e-6,
            ModelConfig.OptionalString(raw, "hidden_act") ?? "silu",
            raw)
        {
            KeyValueHeadCount = keyValueHeads,
            HeadDim = headDim,
            ContextLimit = contextLimit,
        };
    }

    private static RotarySettings Rotary(JsonObject raw, int headDim) => RotarySettings.Read(raw,
        (int)(headDim * (ModelConfig.OptionalDouble(raw, "partial_rotary_factor") ?? 1.0)),
        ModelConfig.OptionalDouble(raw, "rope_theta") ?? 10000.0);

    public TransformerModel Build(ModelConfig config, WeightTable weights, Device device, ScalarType dtype)
    {
        var raw = config.Raw;
        int d = config.Width, heads = config.HeadCount, kvHeads = config.KeyValueHeadCount, hd = config.HeadDim;
        int intermediate = ModelConfig.Int(raw, "config.json", "intermediate_size");
        bool qwen = config.ModelType == "qwen2";
        bool qkvBias = qwen || ModelConfig.OptionalBool(raw, "attention_bias") == true;
        bool outputBias = !qwen && ModelConfig.OptionalBool(raw, "attention_bias") == true;
        bool mlpBias = ModelConfig.OptionalBool(raw, "mlp_bias") == true;

        string Name(string suffix) => weights.Resolve("model." + suffix, suffix) ?? "model." + suffix;
        Linear Dense(string prefix, int inFeatures, int outFeatures, bool bias) =>
            new(weights.Take(Name(prefix + ".weight"), outFeatures, inFeatures), bias ? weights.Take(Name(prefix + ".bias"), outFeatures) : null);
        RmsNorm Norm(string prefix) => new(weights.Take(Name(prefix + ".weight"), d), config.NormEpsilon);

        var tokenEmbedding = weights.Take(Name("embed_tokens.weight"), config.VocabularySize, d);
        var activation = Activations.Named(config.Activation);
        var rotary = Rotary(raw, hd).Embedding(device, dtype);

        var blocks = new List<DecoderBlock>();
        for (int l = 0; l < config.LayerCount; l++)
        {
            var p = $"layers.{l}";
            var projection = new SeparateQkvProjection(
                Dense(p + ".self_attn.q_proj", d, heads * hd, qkvBias),
                Dense(p + ".self_attn.k_proj", d, kvHeads * hd, qkvBias),
                Dense(p + ".self_attn.v_proj", d, kvHeads * hd, qkvBias));
            var attention = new CausalSelfAttention(projection, Dense(p + ".self_attn.o_proj", heads * hd, d, outputBias), heads, kvHeads, hd, rotary);
            var mlp = new GatedFeedForward(
                Dense(p + ".mlp.gate_proj", d, intermediate, mlpBias),
                Dense(p + ".mlp.up_proj", d, intermediate, mlpBias),
                Dense(p + ".mlp.down_proj", intermediate, d, mlpBias),
                activation);
            blocks.Add(new DecoderBlock(l, Norm(p + ".input_layernorm"), attention, Norm(p + ".post_attention_layernorm"), mlp, parallelResidual: false));
        }
        var finalNorm = Norm("norm");

        // A tied head reuses the embedding (a stored lm_head.weight is then a copy of it and is left unread);
        // an untied one must be in the checkpoint.
        var headName = weights.Resolve("lm_head.weight");
        bool tied = ModelConfig.OptionalBool(raw, "tie_word_embeddings") ?? headName is null;
        if (!tied && headName is null)
            throw new InvalidDataException(
                "config.json says tie_word_embeddings is false but the checkpoint has no 'lm_head.weight'; the weights are incomplete.");
        var unembedding = tied ? tokenEmbedding : weights.Take(headName!, config.VocabularySize, d);
        if (tied && headName is not null) weights.Ignore(headName);

        IDisposable[] owned = tied ? [tokenEmbedding, rotary] : [tokenEmbedding, unembedding, rotary];
        return new TransformerModel(config, (ids, _) => Embeddings.Lookup(tokenEmbedding, ids), blocks, finalNorm, unembedding, device, dtype, owned);
    }
}
