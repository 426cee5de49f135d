using ActScale.Model;

namespace ActScale.Tests.Support;

/// <summary>Loads the committed fixture checkpoints (weights only) with the repository's GPT-2 tokenizer beside them.</summary>
public static class ModelFixtures
{
    /// <summary>Copies a fixture's config and weights next to the tokenizer files in a temp folder and loads it on the CPU.</summary>
    public static LanguageModel LoadTinyGpt2(TinyCheckpoints.TempFolder folder)
    {
        var source = Path.Combine(RepoPaths.Fixtures, "tiny-gpt2");
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)), true);
        foreach (var file in new[] { "vocab.json", "merges.txt" })
            File.Copy(Path.Combine(RepoPaths.Gpt2Tokenizer, file), Path.Combine(folder.Path, file), true);
        return LanguageModel.Load(folder.Path, "cpu");
    }
}
