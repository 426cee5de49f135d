using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ActScale.Model.Architectures;

/// <summary>
/// A rotary family's RoPE settings: how many features of each head turn, the base θ, and config.json's optional
/// <c>rope_scaling</c>. Families differ only in where they read the width and θ; the frequencies then come one way, read
/// once in ReadConfig (so a config ActScale cannot run fails before any weight is read) and again in Build.
/// </summary>
internal sealed record RotarySettings(int Width, double Theta, JsonObject? Scaling)
{
    public static RotarySettings Read(JsonObject raw, int width, double theta) => new(width, theta, raw["rope_scaling"] as JsonObject);

    /// <summary>Throws, naming <paramref name="configPath"/>, where the settings describe a rotation ActScale cannot compute.</summary>
    public void Check(string configPath) => _ = Frequencies(configPath);

    public RotaryEmbedding Embedding(Device device, ScalarType dtype) => new(Frequencies("config.json"), device, dtype);

    private double[] Frequencies(string configPath) => RopeFrequencies.Compute(Width, Theta, Scaling, configPath);
}
