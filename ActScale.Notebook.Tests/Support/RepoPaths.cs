namespace ActScale.Tests.Support;

/// <summary>Where the repository's data and the shared reference material are, from a test's bin folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Data => Path.Combine(Root, "data");
    public static string Gpt2Tokenizer => Path.Combine(Data, "tokenizers", "gpt2");
    public static string Fixtures => Path.Combine(Root, "ActScale.Notebook.Tests", "Fixtures");

    /// <summary>../shared beside the checkout; null when this machine has none.</summary>
    public static string? Shared => Directory.Exists(Path.Combine(Root, "..", "shared")) ? Path.GetFullPath(Path.Combine(Root, "..", "shared")) : null;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ActScale.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("ActScale.sln not found above " + AppContext.BaseDirectory);
    }
}
