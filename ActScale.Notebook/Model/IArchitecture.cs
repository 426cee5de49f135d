using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// Everything that differs between model families: how config.json reads, which tensors the checkpoint holds
/// and how they assemble into the shared <see cref="TransformerModel"/>. Sites, hooks and interventions are not
/// here: they are the same for every family.
/// </summary>
public interface IArchitecture
{
    /// <summary>The config.json <c>model_type</c> values this family reads.</summary>
    IReadOnlyList<string> ModelTypes { get; }

    ModelConfig ReadConfig(JsonObject raw, string configPath);

    TransformerModel Build(ModelConfig config, WeightTable weights, Device device, ScalarType dtype);
}

public static class ArchitectureRegistry
{
    private static readonly List<IArchitecture> Architectures =
        [new Architectures.Gpt2Architecture(), new Architectures.LlamaArchitecture(), new Architectures.GptNeoXArchitecture()];

    public static IEnumerable<string> SupportedModelTypes => Architectures.SelectMany(a => a.ModelTypes);

    public static IArchitecture Find(string modelType, string configPath) =>
        Architectures.FirstOrDefault(a => a.ModelTypes.Contains(modelType))
        ?? throw new NotSupportedException(
            $"'{configPath}' describes a '{modelType}' model; supported architectures: {string.Join(", ", SupportedModelTypes)}.");
}
