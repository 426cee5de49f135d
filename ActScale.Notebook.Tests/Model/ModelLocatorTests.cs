using ActScale.Model;
using ActScale.Tests.Support;

namespace ActScale.Tests.Model;

public class ModelLocatorTests
{
    [Fact]
    public void ABareNameResolvesThroughTheLocalHubCache()
    {
        using var home = TinyCheckpoints.NewFolder();
        var snapshot = Path.Combine(home.Path, "hub", "models--gpt2", "snapshots", "abc123");
        Directory.CreateDirectory(snapshot);
        File.WriteAllText(Path.Combine(snapshot, "config.json"), "{}");
        var previous = Environment.GetEnvironmentVariable("HF_HOME");
        Environment.SetEnvironmentVariable("HF_HOME", home.Path);
        try
        {
            Assert.Equal(snapshot, ModelLocator.Resolve("gpt2"));
            var error = Assert.Throws<DirectoryNotFoundException>(() => ModelLocator.Resolve("gpt2-medium"));
            Assert.Contains(Path.Combine(home.Path, "hub", "models--gpt2-medium"), error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_HOME", previous);
        }
    }
}
