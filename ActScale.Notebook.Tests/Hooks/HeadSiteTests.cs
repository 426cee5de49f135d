using ActScale.Hooks;
using ActScale.Model;
using ActScale.Tests.Support;
using static TorchSharp.torch;

namespace ActScale.Tests.Hooks;

/// <summary>The per-head site blocks.{l}.attn.head_out on every family: its width, and that it feeds the output projection.</summary>
public class HeadSiteTests
{
    public static TheoryData<string> Families => new(FamilyFixtures.All.Keys);

    [Theory]
    [MemberData(nameof(Families))]
    public void SilencingEveryHeadLeavesOnlyTheOutputBiasAndOneHeadChangesTheLogits(string family)
    {
        using var model = LanguageModel.Load(FamilyFixtures.Folder(family), "cpu");
        using var input = tensor(FamilyFixtures.Prompt).unsqueeze(0);
        int heads = model.Config.HeadCount, headDim = model.Config.HeadDim;
        var site = new Site(0, SiteKind.AttnHead);
        Assert.Equal("blocks.0.attn.head_out", site.ToString());
        Assert.Equal(site, Site.Parse("blocks.0.attn.head_out"));

        var silent = new HookSet();
        silent.Intervene(site, h => zeros_like(h));
        silent.Capture(new Site(0, SiteKind.AttnOut));
        using (model.Transformer.Logits(input, silent)) { }
        // With no head output the projection gives its bias (or 0) at every position.
        var attnOut = silent.Captured[new Site(0, SiteKind.AttnOut)];
        Assert.True(attnOut.allclose(attnOut[.., ..1].expand_as(attnOut), rtol: 0, atol: 1e-6));
        silent.ClearCaptured();

        var oneHead = new HookSet();
        oneHead.Intervene(site, h => cat([zeros_like(h.narrow(-1, 0, headDim)), h.narrow(-1, headDim, (heads - 1) * headDim)], -1));
        using var plain = model.Transformer.Logits(input);
        using var without = model.Transformer.Logits(input, oneHead);
        Assert.False(plain.allclose(without, rtol: 0, atol: 1e-6), "silencing head 0 must change the logits");
    }
}
