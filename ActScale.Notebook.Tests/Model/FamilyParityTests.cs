using System.Text.Json.Nodes;
using ActScale.Hooks;
using ActScale.Model;
using ActScale.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActScale.Tests.Model;

/// <summary>
/// Llama-family and GPT-NeoX logits and residual streams against the independent PyTorch references
/// (Fixtures/reference/*_logits.py), and the named sites and interventions on each family.
/// </summary>
public class FamilyParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Fixtures => new(FamilyFixtures.All.Keys);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TinyRandomCheckpointMatchesPyTorchReferenceTo1e4(string name)
    {
        var fixture = JsonNode.Parse(File.ReadAllText(FamilyFixtures.Reference(name)))!;
        var ids = fixture["ids"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
        Assert.Equal(FamilyFixtures.Prompt, ids);
        using var model = LanguageModel.Load(FamilyFixtures.Folder(name), "cpu");

        var hooks = new HookSet();
        for (int l = 0; l < model.Config.LayerCount; l++) hooks.Capture(new Site(l, SiteKind.ResidPost));
        using var input = tensor(ids).unsqueeze(0);
        using var logits = model.Transformer.Logits(input, hooks);
        Assert.Equal(TinyFamilyCheckpoints.Vocabulary, (int)logits.shape[2]);

        var columns = fixture["columns"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
        var subset = fixture["logits_subset"]!.AsArray();
        double worst = 0;
        for (int position = 0; position < ids.Length; position++)
        {
            var row = logits[0, position].data<float>().ToArray();
            var expected = subset[position]!.AsArray();
            for (int c = 0; c < columns.Length; c++) worst = Math.Max(worst, Math.Abs(row[columns[c]] - expected[c]!.GetValue<double>()));
        }
        var last = logits[0, -1].data<float>().ToArray();
        var expectedLast = fixture["last_logits"]!.AsArray();
        for (int v = 0; v < last.Length; v++) worst = Math.Max(worst, Math.Abs(last[v] - expectedLast[v]!.GetValue<double>()));

        double worstResidual = 0;
        var residuals = fixture["resid_post_last"]!.AsArray();
        Assert.Equal(model.Config.LayerCount, residuals.Count);
        for (int l = 0; l < residuals.Count; l++)
        {
            var actual = hooks.Captured[new Site(l, SiteKind.ResidPost)][0, -1].data<float>().ToArray();
            var expected = residuals[l]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++) worstResidual = Math.Max(worstResidual, Math.Abs(expected[i] - actual[i]));
        }
        hooks.ClearCaptured();
        output.WriteLine($"{name}: max |logit - reference| = {worst:E2}, max |resid_post - reference| = {worstResidual:E2}");
        Assert.True(worst < 1e-4, $"{name}: largest logit difference {worst:E2}");
        Assert.True(worstResidual < 1e-4, $"{name}: largest residual difference {worstResidual:E2}");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void NamedSitesAndInterventionsWork(string name)
    {
        using var model = LanguageModel.Load(FamilyFixtures.Folder(name), "cpu");
        using var input = tensor(FamilyFixtures.Prompt).unsqueeze(0);
        using var plain = model.Transformer.Logits(input);

        // Every block exposes every site kind, each [batch, position, width] (the heads' outputs: heads · head width).
        var capture = new HookSet();
        for (int l = 0; l < model.Config.LayerCount; l++)
            foreach (var kind in Enum.GetValues<SiteKind>()) capture.Capture(new Site(l, kind));
        using (var captured = model.Transformer.Logits(input, capture))
            Assert.True(captured.equal(plain).all().item<bool>(), "capturing must not change the logits");
        Assert.Equal(Enum.GetValues<SiteKind>().Length * model.Config.LayerCount, capture.Captured.Count);
        foreach (var (site, activation) in capture.Captured)
            Assert.Equal([1L, FamilyFixtures.Prompt.Length, site.Kind == SiteKind.AttnHead ? model.Config.HeadCount * model.Config.HeadDim : model.Config.Width],
                activation.shape);
        // resid_post of block l is resid_pre of block l + 1.
        Assert.True(capture.Captured[Site.Parse("blocks.0.resid_post")].equal(capture.Captured[Site.Parse("blocks.1.resid_pre")]).all().item<bool>());
        capture.ClearCaptured();

        var identity = new HookSet();
        using (identity.Intervene(Site.Parse("blocks.1.mlp_out"), x => x * 1.0))
        using (var same = model.Transformer.Logits(input, identity))
            Assert.True(same.allclose(plain, rtol: 0, atol: 1e-6), "an identity intervention changed the logits");

        var ablate = new HookSet();
        using (ablate.Intervene(Site.Parse("blocks.1.mlp_out"), x => x * 0.0))
        using (var ablated = model.Transformer.Logits(input, ablate))
        using (var change = (ablated - plain).abs().max())
            Assert.True(change.item<float>() > 1e-3, $"scaling blocks.1.mlp_out by 0 changed the logits by only {change.item<float>()}");
    }

    [Fact]
    public void UnknownArchitectureListsTheSupportedOnes()
    {
        using var folder = TinyCheckpoints.NewFolder();
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), """{"model_type": "mamba"}""");
        var error = Assert.Throws<NotSupportedException>(() => ModelConfig.Read(Path.Combine(folder.Path, "config.json")));
        foreach (var type in new[] { "gpt2", "llama", "qwen2", "mistral", "gpt_neox" }) Assert.Contains(type, error.Message);
    }
}
