using System.Text;
using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ActScale.Tests.Support;

/// <summary>
/// Small random Llama-family and GPT-NeoX checkpoint folders for tests, written deterministically from
/// System.Random, with a tiny byte-level BPE tokenizer.json so <see cref="ActScale.Model.LanguageModel.Load"/>
/// reads them end to end. Fixtures/*.reference.json hold an independent PyTorch reference's logits for the
/// folders these methods write (see Fixtures/reference/README.md).
/// </summary>
public static class TinyFamilyCheckpoints
{
    public const int Vocabulary = 300;

    public sealed record LlamaShape(
        string ModelType = "llama", int Layers = 2, int Width = 32, int Heads = 4, int KeyValueHeads = 2, int? HeadDim = 12,
        int Intermediate = 40, bool Tied = false, bool AttentionBias = false, JsonObject? RopeScaling = null, double RopeTheta = 10000.0);

    public sealed record NeoXShape(int Layers = 2, int Width = 32, int Heads = 4, int Intermediate = 64, double RotaryPct = 0.25,
        bool ParallelResidual = true, double RotaryBase = 10000.0);

    public static string WriteLlama(string folder, LlamaShape shape, int seed = 7)
    {
        Directory.CreateDirectory(folder);
        int hd = shape.HeadDim ?? shape.Width / shape.Heads, d = shape.Width;
        var config = new JsonObject
        {
            ["model_type"] = shape.ModelType, ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["hidden_size"] = d, ["intermediate_size"] = shape.Intermediate, ["num_hidden_layers"] = shape.Layers,
            ["num_attention_heads"] = shape.Heads, ["num_key_value_heads"] = shape.KeyValueHeads,
            ["vocab_size"] = Vocabulary, ["max_position_embeddings"] = 64, ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = shape.RopeTheta, ["hidden_act"] = "silu", ["tie_word_embeddings"] = shape.Tied,
        };
        if (shape.HeadDim is int explicitHeadDim) config["head_dim"] = explicitHeadDim;
        if (shape.ModelType == "llama") config["attention_bias"] = shape.AttentionBias;
        if (shape.RopeScaling is not null) config["rope_scaling"] = shape.RopeScaling.DeepClone();
        if (shape.ModelType == "qwen2") { config["use_sliding_window"] = false; config["sliding_window"] = 32; }

        var random = new Random(seed);
        var tensors = new Dictionary<string, Tensor>
        {
            ["model.embed_tokens.weight"] = Uniform(random, [Vocabulary, d], 0f, 0.5f),
            ["model.norm.weight"] = Uniform(random, [d], 1f, 0.2f),
        };
        bool qkvBias = shape.ModelType == "qwen2" || shape.AttentionBias;
        for (int l = 0; l < shape.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            tensors[p + "input_layernorm.weight"] = Uniform(random, [d], 1f, 0.2f);
            tensors[p + "post_attention_layernorm.weight"] = Uniform(random, [d], 1f, 0.2f);
            foreach (var (name, rows) in new[] { ("q_proj", shape.Heads * hd), ("k_proj", shape.KeyValueHeads * hd), ("v_proj", shape.KeyValueHeads * hd) })
            {
                tensors[p + $"self_attn.{name}.weight"] = Uniform(random, [rows, d], 0f, 0.35f);
                if (qkvBias) tensors[p + $"self_attn.{name}.bias"] = Uniform(random, [rows], 0f, 0.35f);
            }
            tensors[p + "self_attn.o_proj.weight"] = Uniform(random, [d, shape.Heads * hd], 0f, 0.35f);
            if (shape.AttentionBias && shape.ModelType == "llama") tensors[p + "self_attn.o_proj.bias"] = Uniform(random, [d], 0f, 0.35f);
            tensors[p + "mlp.gate_proj.weight"] = Uniform(random, [shape.Intermediate, d], 0f, 0.35f);
            tensors[p + "mlp.up_proj.weight"] = Uniform(random, [shape.Intermediate, d], 0f, 0.35f);
            tensors[p + "mlp.down_proj.weight"] = Uniform(random, [d, shape.Intermediate], 0f, 0.35f);
        }
        if (!shape.Tied) tensors["lm_head.weight"] = Uniform(random, [Vocabulary, d], 0f, 0.35f);
        return Finish(folder, config, tensors);
    }

    public static string WriteGptNeoX(string folder, NeoXShape shape, int seed = 11)
    {
        Directory.CreateDirectory(folder);
        int d = shape.Width;
        var config = new JsonObject
        {
            ["model_type"] = "gpt_neox", ["architectures"] = new JsonArray("GPTNeoXForCausalLM"),
            ["hidden_size"] = d, ["intermediate_size"] = shape.Intermediate, ["num_hidden_layers"] = shape.Layers,
            ["num_attention_heads"] = shape.Heads, ["vocab_size"] = Vocabulary, ["max_position_embeddings"] = 64,
            ["layer_norm_eps"] = 1e-5, ["rotary_pct"] = shape.RotaryPct, ["rotary_emb_base"] = shape.RotaryBase,
            ["hidden_act"] = "gelu", ["use_parallel_residual"] = shape.ParallelResidual, ["tie_word_embeddings"] = false,
        };
        var random = new Random(seed);
        var tensors = new Dictionary<string, Tensor>
        {
            ["gpt_neox.embed_in.weight"] = Uniform(random, [Vocabulary, d], 0f, 0.5f),
            ["gpt_neox.final_layer_norm.weight"] = Uniform(random, [d], 1f, 0.2f),
            ["gpt_neox.final_layer_norm.bias"] = Uniform(random, [d], 0f, 0.2f),
            ["embed_out.weight"] = Uniform(random, [Vocabulary, d], 0f, 0.35f),
        };
        for (int l = 0; l < shape.Layers; l++)
        {
            var p = $"gpt_neox.layers.{l}.";
            foreach (var norm in new[] { "input_layernorm", "post_attention_layernorm" })
            {
                tensors[p + norm + ".weight"] = Uniform(random, [d], 1f, 0.2f);
                tensors[p + norm + ".bias"] = Uniform(random, [d], 0f, 0.2f);
            }
            foreach (var (name, rows, cols) in new[]
                     {
                         ("attention.query_key_value", 3 * d, d), ("attention.dense", d, d),
                         ("mlp.dense_h_to_4h", shape.Intermediate, d), ("mlp.dense_4h_to_h", d, shape.Intermediate),
                     })
            {
                tensors[p + name + ".weight"] = Uniform(random, [rows, cols], 0f, 0.35f);
                tensors[p + name + ".bias"] = Uniform(random, [rows], 0f, 0.35f);
            }
        }
        return Finish(folder, config, tensors);
    }

    private static Tensor Uniform(Random random, long[] dims, float center, float spread)
    {
        ActScale.Runtime.TorchNativeLoader.EnsureLoadable();
        var values = new float[dims.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = center + spread * (2 * random.NextSingle() - 1);
        return tensor(values, dims);
    }

    private static string Finish(string folder, JsonObject config, Dictionary<string, Tensor> tensors)
    {
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        WriteByteLevelTokenizerJson(Path.Combine(folder, "tokenizer.json"));
        Safetensors.SaveStateDict(Path.Combine(folder, "model.safetensors"), tensors);
        foreach (var t in tensors.Values) t.Dispose();
        return folder;
    }

    /// <summary>GPT-2's byte → printable character table used by byte-level BPE vocabularies.</summary>
    public static char[] ByteCharacters()
    {
        var table = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return table;
    }

    /// <summary>
    /// A byte-level BPE tokenizer.json with the 256 byte symbols (ids 0..255), a few merges that build " the",
    /// " cat" and "at", and an end-of-text special token: small, but read exactly as a Pythia or Qwen2 one is.
    /// </summary>
    public static void WriteByteLevelTokenizerJson(string path, string[]? extraMerges = null)
    {
        var bytes = ByteCharacters();
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[bytes[b].ToString()] = b;
        var merges = new JsonArray();
        int next = 256;
        foreach (var merge in extraMerges ?? ["Ġ t", "h e", "Ġt he", "a t", "Ġ c", "Ġc at"])
        {
            var parts = merge.Split(' ');
            vocab[parts[0] + parts[1]] = next++;
            merges.Add(merge);
        }
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = next, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges },
        };
        File.WriteAllText(path, root.ToJsonString(), new UTF8Encoding(false));
    }
}
