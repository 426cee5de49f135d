using System.Text.Json.Nodes;
using ActScale.Hooks;
using ActScale.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActScale.Tests.Model;

/// <summary>Logits and residual streams against the independent PyTorch reference (fixtures made by Fixtures/make_reference.py).</summary>
public class Gpt2ParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("tiny-gpt2")]
    [InlineData("actscale-capitals-ioi")]
    public void Gpt2MatchesPyTorchReferenceTo1e4(string fixtureName)
    {
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, fixtureName + ".reference.json")))!;
        var ids = fixture["ids"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
        using var folder = TinyCheckpoints.NewFolder();
        using var model = fixtureName == "tiny-gpt2"
            ? ModelFixtures.LoadTinyGpt2(folder)
            : ActScale.Model.LanguageModel.Load(Path.Combine(RepoPaths.Data, "models", fixtureName), "cpu");

        var hooks = new HookSet();
        for (int l = 0; l < model.Config.LayerCount; l++) hooks.Capture(new Site(l, SiteKind.ResidPost));
        using var input = tensor(ids).unsqueeze(0);
        using var logits = model.Transformer.Logits(input, hooks);

        var columns = fixture["columns"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
        var expectedSubset = fixture["logits_subset"]!.AsArray();
        double worst = 0;
        for (int position = 0; position < ids.Length; position++)
        {
            var row = logits[0, position].data<float>().ToArray();
            var expected = expectedSubset[position]!.AsArray();
            for (int c = 0; c < columns.Length; c++)
                worst = Math.Max(worst, Math.Abs(row[columns[c]] - expected[c]!.GetValue<double>()));
        }
        var last = logits[0, -1].data<float>().ToArray();
        var expectedLast = fixture["last_logits"]!.AsArray();
        for (int v = 0; v < last.Length; v++) worst = Math.Max(worst, Math.Abs(last[v] - expectedLast[v]!.GetValue<double>()));
        output.WriteLine($"{fixtureName}: largest logit difference {worst:E2}");
        Assert.True(worst < 1e-4, $"largest logit difference {worst:E2}");

        var residuals = fixture["resid_post_last"]!.AsArray();
        for (int l = 0; l < residuals.Count; l++)
        {
            var actual = hooks.Captured[new Site(l, SiteKind.ResidPost)][0, -1].data<float>().ToArray();
            var expected = residuals[l]!.AsArray().Select(n => n!.GetValue<float>()).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4, $"layer {l} feature {i}");
        }
        hooks.ClearCaptured();
    }
}
