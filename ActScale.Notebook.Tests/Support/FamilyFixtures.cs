using System.Text.Json.Nodes;

namespace ActScale.Tests.Support;

/// <summary>
/// The committed tiny family checkpoints (Fixtures/tiny-*), the shapes they were written with and the prompt
/// their reference logits are for. Rewrite them with ACTSCALE_WRITE_FIXTURES=1 (see Fixtures/reference/README.md).
/// </summary>
public static class FamilyFixtures
{
    public static readonly long[] Prompt = [5, 17, 200, 42, 299, 3, 88, 150, 256, 261, 1];

    /// <summary>Fixture name → (reference family, writer).</summary>
    public static readonly IReadOnlyDictionary<string, (string Family, Action<string> Write)> All =
        new Dictionary<string, (string, Action<string>)>
        {
            // GQA (4 query heads on 2 KV heads), head_dim 12 ≠ width/heads, llama3 rope scaling, untied head.
            ["tiny-llama"] = ("llama", f => TinyFamilyCheckpoints.WriteLlama(f, new TinyFamilyCheckpoints.LlamaShape(
                RopeScaling: new JsonObject
                {
                    ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
                    ["original_max_position_embeddings"] = 64,
                }), seed: 7)),
            // Qwen2: q/k/v biases, one KV head, tied head, linear rope scaling, theta 1e6.
            ["tiny-qwen2"] = ("llama", f => TinyFamilyCheckpoints.WriteLlama(f, new TinyFamilyCheckpoints.LlamaShape(
                ModelType: "qwen2", KeyValueHeads: 1, HeadDim: null, Tied: true, RopeTheta: 1e6,
                RopeScaling: new JsonObject { ["type"] = "linear", ["factor"] = 2.0 }), seed: 8)),
            // Pythia-style: parallel residual, rotary on a quarter of each head.
            ["tiny-gpt-neox"] = ("gpt_neox", f => TinyFamilyCheckpoints.WriteGptNeoX(f, new TinyFamilyCheckpoints.NeoXShape(), seed: 11)),
            // Sequential residual, rotary on half of each head, another base.
            ["tiny-gpt-neox-sequential"] = ("gpt_neox", f => TinyFamilyCheckpoints.WriteGptNeoX(f, new TinyFamilyCheckpoints.NeoXShape(
                RotaryPct: 0.5, ParallelResidual: false, RotaryBase: 500.0), seed: 12)),
        };

    public static string Folder(string name) => Path.Combine(RepoPaths.Fixtures, name);

    /// <summary>Rewrites every tiny family checkpoint (then run Fixtures/reference/make_all.sh for their reference logits).</summary>
    public static void WriteAll()
    {
        foreach (var (name, (_, write)) in All)
        {
            var folder = Folder(name);
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
            write(folder);
        }
    }
    public static string Reference(string name) => Path.Combine(RepoPaths.Fixtures, name + ".reference.json");
}
