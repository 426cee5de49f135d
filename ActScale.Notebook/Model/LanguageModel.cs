using System.Security.Cryptography;
using System.Text;
using ActScale.Runtime;
using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>A loaded model with its tokenizer, device and identity: what every experiment starts from.</summary>
public sealed class LanguageModel : IDisposable
{
    private LanguageModel(string folder, TransformerModel transformer, TextTokenizer tokenizer, string identity)
    {
        Folder = folder;
        Transformer = transformer;
        Tokenizer = tokenizer;
        Identity = identity;
    }

    public string Folder { get; }
    public string Name => Path.GetFileName(Folder.TrimEnd(Path.DirectorySeparatorChar));
    public TransformerModel Transformer { get; }
    public TextTokenizer Tokenizer { get; }
    public Device Device => Transformer.Device;
    public ModelConfig Config => Transformer.Config;

    /// <summary>Architecture, shape and a hash of config.json: saved interventions check it before they reapply.</summary>
    public string Identity { get; }

    /// <summary>Loads a checkpoint folder or name (null: the shipped default) onto a device ("auto", "cpu", "cuda[:N]").</summary>
    public static LanguageModel Load(string? pathOrName = null, string? device = "auto", string? dtype = "float32", Action<string>? notice = null)
    {
        var folder = ModelLocator.Resolve(pathOrName);
        var target = ComputeDevice.Resolve(device, notice);
        var scalarType = ComputeDevice.ResolveDType(dtype, target);
        var configPath = Path.Combine(folder, "config.json");
        var config = ModelConfig.Read(configPath);
        var tokenizer = TokenizerFor(config, folder);
        if (tokenizer.VocabularySize > config.VocabularySize)
            throw new InvalidDataException(
                $"The tokenizer in '{folder}' has {tokenizer.VocabularySize} tokens but config.json says vocab_size {config.VocabularySize}; the tokenizer files belong to another model.");

        TransformerModel transformer;
        using (no_grad())
        using (var weights = new WeightTable(CheckpointReader.Read(folder), target, scalarType))
        {
            transformer = ArchitectureRegistry.Find(config.ModelType, configPath).Build(config, weights, target, scalarType);
            try
            {
                weights.RefuseUnused(configPath);
            }
            catch
            {
                transformer.Dispose();
                throw;
            }
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(config.ToJson())))[..12].ToLowerInvariant();
        var identity = $"{config.ModelType} L{config.LayerCount} d{config.Width} h{config.HeadCount} v{config.VocabularySize} config:{hash}";
        return new LanguageModel(folder, transformer, tokenizer, identity);
    }

    private static TextTokenizer TokenizerFor(ModelConfig config, string folder) => TextTokenizer.FromFolder(folder).LimitedTo(config.ContextLength);

    /// <summary>Token ids [1, length] for one prompt, on the model's device.</summary>
    public Tensor Encode(string text) => tensor(Tokenizer.Encode(text).Select(i => (long)i).ToArray(), device: Device).unsqueeze(0);

    public void Dispose() => Transformer.Dispose();
}
