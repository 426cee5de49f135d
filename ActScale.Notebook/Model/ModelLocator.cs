namespace ActScale.Model;

/// <summary>
/// Turns what a user typed (a folder, a bare Hugging Face name, or nothing) into a checkpoint folder on disk.
/// Nothing is ever downloaded: a name resolves only through the local Hugging Face hub cache.
/// </summary>
public static class ModelLocator
{
    /// <summary>The model that ships with ActScale, used when none is named.</summary>
    public const string DefaultModelName = "actscale-capitals-ioi";

    public static string Resolve(string? pathOrName)
    {
        if (string.IsNullOrWhiteSpace(pathOrName)) return DefaultModelFolder();
        var expanded = pathOrName.StartsWith('~')
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), pathOrName.TrimStart('~', '/'))
            : pathOrName;
        if (Directory.Exists(expanded)) return Path.GetFullPath(expanded);
        if (pathOrName == DefaultModelName) return DefaultModelFolder();

        var looked = new List<string> { Path.GetFullPath(expanded) };
        if (!pathOrName.Contains(Path.DirectorySeparatorChar) || pathOrName.Count(c => c == '/') == 1)
        {
            var repo = Path.Combine(HubCacheFolder(), "models--" + pathOrName.Replace("/", "--"), "snapshots");
            looked.Add(repo);
            if (Directory.Exists(repo))
            {
                var snapshot = Directory.GetDirectories(repo)
                    .Where(d => File.Exists(Path.Combine(d, "config.json")))
                    .OrderByDescending(Directory.GetLastWriteTimeUtc)
                    .FirstOrDefault();
                if (snapshot is not null) return snapshot;
            }
        }
        throw new DirectoryNotFoundException(
            $"Model '{pathOrName}' was not found. Looked in: {string.Join("; ", looked)}. ActScale never downloads; " +
            "put a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer files) on disk and pass its path.");
    }

    public static string HubCacheFolder()
    {
        if (Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } hub) return hub;
        var home = Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } hf
            ? hf
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface");
        return Path.Combine(home, "hub");
    }

    /// <summary>
    /// The shipped model travels inside the NuGet package (content next to the assembly) and sits under
    /// data/models in a source checkout; both are searched.
    /// </summary>
    public static string DefaultModelFolder()
    {
        foreach (var root in new[] { Path.GetDirectoryName(typeof(ModelLocator).Assembly.Location)!, AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(root); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[]
                         {
                             Path.Combine(dir.FullName, "models", DefaultModelName),
                             Path.Combine(dir.FullName, "data", "models", DefaultModelName),
                             Path.Combine(dir.FullName, "content", "models", DefaultModelName),
                         })
                    if (File.Exists(Path.Combine(candidate, "config.json"))) return candidate;
            }
        }
        throw new DirectoryNotFoundException(
            $"The default model '{DefaultModelName}' was not found next to ActScale or under data/models. Reinstall the package or pass --model PATH.");
    }
}
