using ActScale.Hooks;
using ActScale.Model;
using ActScale.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace ActScale.Tests.Hooks;

public class HookSetTests : IDisposable
{
    private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();
    private readonly LanguageModel _model;
    private readonly Tensor _ids = tensor(new long[] { 464, 3139, 286, 4881, 318 }).unsqueeze(0);

    public HookSetTests() => _model = ModelFixtures.LoadTinyGpt2(_folder);

    [Theory]
    [InlineData("blocks.3.attn_out", 3, SiteKind.AttnOut)]
    [InlineData("blocks.0.mlp_out", 0, SiteKind.MlpOut)]
    [InlineData("blocks.11.resid_post", 11, SiteKind.ResidPost)]
    [InlineData("blocks.2.resid_pre", 2, SiteKind.ResidPre)]
    [InlineData("blocks.1.attn.head_out", 1, SiteKind.AttnHead)]
    public void SiteNamesRoundTrip(string name, int layer, SiteKind kind)
    {
        var site = Site.Parse(name);
        Assert.Equal(new Site(layer, kind), site);
        Assert.Equal(name, site.ToString());
    }

    [Fact]
    public void ABadSiteNameSaysWhatOneLooksLike() =>
        Assert.Contains("blocks.3.attn_out", Assert.Throws<ArgumentException>(() => Site.Parse("layer3.attn")).Message);

    [Fact]
    public void ASitePastTheLastLayerIsRefusedByName()
    {
        var hooks = new HookSet();
        using var handle = hooks.Intervene(Site.Parse("blocks.7.attn_out"), h => h);
        var e = Assert.Throws<ArgumentException>(() => _model.Transformer.Logits(_ids, hooks));
        Assert.Contains("no site blocks.7.attn_out", e.Message);
        Assert.Contains($"0 to {_model.Config.LayerCount - 1}", e.Message);
    }

    [Fact]
    public void EveryLayerExposesEverySiteKindOfWidthD()
    {
        var hooks = new HookSet();
        var sites = Enumerable.Range(0, _model.Config.LayerCount)
            .SelectMany(l => Enum.GetValues<SiteKind>().Select(k => new Site(l, k))).ToList();
        foreach (var site in sites) hooks.Capture(site);
        _model.Transformer.Logits(_ids, hooks).Dispose();
        Assert.Equal(sites.Count, hooks.Captured.Count);
        foreach (var site in sites) Assert.Equal(new long[] { 1, 5, _model.Config.Width }, hooks.Captured[site].shape);
        // resid_post = resid_pre + attn_out + mlp_out for a sequential block
        var l = 1;
        using var sum = hooks.Captured[new(l, SiteKind.ResidPre)] + hooks.Captured[new(l, SiteKind.AttnOut)] + hooks.Captured[new(l, SiteKind.MlpOut)];
        Assert.True(sum.allclose(hooks.Captured[new(l, SiteKind.ResidPost)], rtol: 0, atol: 1e-5));
        hooks.ClearCaptured();
    }

    [Fact]
    public void InterventionsComposeInOrderAndAreRemovedCleanly()
    {
        using var clean = _model.Transformer.Logits(_ids);
        var hooks = new HookSet();
        var site = new Site(0, SiteKind.MlpOut);
        var seen = new List<string>();
        using (hooks.Intervene(site, h => { seen.Add("double"); return h * 2; }))
        using (hooks.Intervene(site, h => { seen.Add("shift"); return h + 1; }))
        {
            hooks.Capture(site);
            using var steered = _model.Transformer.Logits(_ids, hooks);
            Assert.Equal(["double", "shift"], seen);
            Assert.False(steered.allclose(clean, rtol: 0, atol: 1e-3));
            // The capture sees the final replacement: (h·2)+1, so it differs from 2h+2 = (h+1)·2.
            var captured = hooks.Captured[site];
            var plain = new HookSet();
            plain.Capture(site);
            _model.Transformer.Logits(_ids, plain).Dispose();
            using var expected = plain.Captured[site] * 2 + 1;
            Assert.True(captured.allclose(expected, rtol: 0, atol: 1e-5));
            plain.ClearCaptured();
            hooks.ClearCaptured();
        }
        Assert.False(hooks.HasInterventions);
        using var after = _model.Transformer.Logits(_ids, hooks);
        Assert.True(after.allclose(clean, rtol: 0, atol: 0));
    }

    [Fact]
    public void GradientsFlowFromLogitsIntoInterventionParametersOnly()
    {
        using var alpha = zeros(_model.Config.LayerCount, requires_grad: true);
        var hooks = new HookSet();
        for (int l = 0; l < _model.Config.LayerCount; l++)
        {
            int layer = l;
            hooks.Intervene(new Site(l, SiteKind.AttnOut), h => h * (1 + alpha[layer]));
        }
        using var logits = _model.Transformer.Logits(_ids, hooks);
        using var loss = logits[0, -1, 6342] - logits[0, -1, 4881];
        loss.backward();
        Assert.NotNull(alpha.grad);
        Assert.True(alpha.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void RepeatedInterventionRunsLeakNoTensors()
    {
        var site = new Site(1, SiteKind.MlpOut);
        void Run()
        {
            using var scale = tensor(0.5f, requires_grad: true);
            var hooks = new HookSet();
            using var _ = hooks.Intervene(site, h => h * scale);
            hooks.Capture(new Site(0, SiteKind.ResidPost));
            using (var scope = NewDisposeScope())
            {
                var logits = _model.Transformer.Logits(_ids, hooks);
                logits[0, -1, 6342].backward();
            }
            hooks.ClearCaptured();
        }
        Run(); // warm-up: lazily created tensors (e.g. cached constants) are not leaks
        var statistics = DisposeScopeManager.Statistics;
        long before = statistics.TensorStatistics.ThreadTotalLiveCount;
        for (int i = 0; i < 50; i++) Run();
        long after = statistics.TensorStatistics.ThreadTotalLiveCount;
        Assert.Equal(before, after);
    }

    public void Dispose()
    {
        _ids.Dispose();
        _model.Dispose();
        _folder.Dispose();
    }
}
