using ActScale.Tests.Support;

namespace ActScale.Tests.Model;

public class FamilyFixtureWriter
{
    /// <summary>Rewrites Fixtures/tiny-{llama,qwen2,gpt-neox,gpt-neox-sequential}; then run Fixtures/reference/make_all.sh.</summary>
    [FixtureWriterFact]
    public void WriteTinyFamilyCheckpoints()
    {
        foreach (var (name, (_, write)) in FamilyFixtures.All)
        {
            var folder = FamilyFixtures.Folder(name);
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
            write(folder);
        }
    }
}
