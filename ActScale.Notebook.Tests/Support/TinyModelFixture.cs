using ActScale.Model;
using ActScale.Tasks;
using ActScale.Tests.Support;

namespace ActScale.Tests.Support;

/// <summary>The committed tiny random GPT-2 (2 layers, width 16, context 32), loaded once per test class, and small tasks for it.</summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();

    public TinyModelFixture()
    {
        // Tiny tensors gain nothing from intra-op threads, and on a shared CPU their spin-waiting costs up to 30×.
        ActScale.Runtime.TorchNativeLoader.EnsureLoadable();
        TorchSharp.torch.set_num_threads(1);
        Model = ModelFixtures.LoadTinyGpt2(_folder);
    }

    public LanguageModel Model { get; }

    /// <summary>Eight same-length CCC-like prompts (6 train, 2 test) with single-token answers.</summary>
    public static IReadOnlyList<PromptExample> SameLengthTask() =>
    [
        new("The capital of France is Rome. The capital of France is", " Paris", " Rome", "train"),
        new("The capital of Italy is Paris. The capital of Italy is", " Rome", " Paris", "train"),
        new("The capital of Spain is Berlin. The capital of Spain is", " Madrid", " Berlin", "train"),
        new("The capital of Germany is Madrid. The capital of Germany is", " Berlin", " Madrid", "train"),
        new("The capital of Japan is Cairo. The capital of Japan is", " Tokyo", " Cairo", "train"),
        new("The capital of Egypt is Tokyo. The capital of Egypt is", " Cairo", " Tokyo", "train"),
        new("The capital of Russia is Dublin. The capital of Russia is", " Moscow", " Dublin", "test"),
        new("The capital of Ireland is Moscow. The capital of Ireland is", " Dublin", " Moscow", "test"),
    ];

    public void Dispose()
    {
        Model.Dispose();
        _folder.Dispose();
    }
}
