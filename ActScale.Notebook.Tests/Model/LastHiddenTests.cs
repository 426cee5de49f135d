using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Tests.Support;
using static TorchSharp.torch;

namespace ActScale.Tests.Model;

/// <summary>
/// The forward that computes only what a last-token loss reads (<see cref="TransformerModel.LastHidden"/>) against the full
/// forward: same hidden states and same parameter gradients, on every family, with right padding and hooks on every site.
/// </summary>
public sealed class LastHiddenTests
{
    public static TheoryData<string> Families => new(["gpt2", .. FamilyFixtures.All.Keys]);

    [Theory]
    [MemberData(nameof(Families))]
    public void HiddenStatesAndGradientsEqualTheFullForwardTo1e5(string family)
    {
        set_num_threads(1);
        using var folder = TinyCheckpoints.NewFolder();
        using var model = family == "gpt2" ? ModelFixtures.LoadTinyGpt2(folder) : LanguageModel.Load(FamilyFixtures.Folder(family), "cpu");
        const int length = 7;
        manual_seed(5);
        using var ids = randint(0, Math.Min(model.Config.VocabularySize, 250), [3, length], dtype: ScalarType.Int64);
        using var last = tensor(new long[] { length - 1, 3, 0 });   // right padding after each row's last token
        using var beta = tensor(new[] { 1f, -1f, 0.5f }).view(-1, 1, 1);
        using var scalars = RandomIntervention(InterventionMethod.ActivScalar,
            InterventionLayout.For([SiteKind.ResidPre, SiteKind.AttnOut, SiteKind.MlpOut, SiteKind.ResidPost], model.Config, length));
        using var heads = RandomIntervention(InterventionMethod.SteerVec, InterventionLayout.For([SiteKind.AttnHead], model.Config, length));
        var hooks = new HookSet();
        using var a = scalars.Attach(hooks, beta);
        using var b = heads.Attach(hooks, beta);
        using var readout = randn(3, model.Config.Width);

        var (full, fullGradients) = Run(() =>
        {
            var hidden = model.Transformer.Hidden(ids, hooks);
            return hidden.gather(1, last.view(-1, 1, 1).expand(-1, 1, hidden.shape[2])).squeeze(1);
        });
        var (reduced, reducedGradients) = Run(() => model.Transformer.LastHidden(ids, last, hooks));

        Assert.True(full.abs().max().item<float>() > 0.1f, "the check needs non-trivial hidden states");
        Assert.True((full - reduced).abs().max().item<float>() < 1e-5f, $"{family}: hidden states differ");
        for (int i = 0; i < fullGradients.Length; i++)
        {
            float scale = Math.Max(1f, fullGradients[i].abs().max().item<float>());
            Assert.True(fullGradients[i].abs().max().item<float>() > 1e-4f, "the check needs non-zero gradients");
            float worst = (fullGradients[i] - reducedGradients[i]).abs().max().item<float>();
            Assert.True(worst < 1e-5f * scale, $"{family}: parameter gradients differ by {worst:E2}");
        }

        (Tensor Hidden, Tensor[] Gradients) Run(Func<Tensor> forward)
        {
            scalars.Parameters.grad?.zero_();
            heads.Parameters.grad?.zero_();
            var hidden = forward();
            (hidden * readout).sum().backward();
            return (hidden.detach(), [scalars.Parameters.grad!.clone(), heads.Parameters.grad!.clone()]);
        }
    }

    private static Intervention RandomIntervention(InterventionMethod method, InterventionLayout layout)
    {
        var intervention = Intervention.Create(method, layout, CPU);
        using (no_grad()) intervention.Parameters.copy_(randn_like(intervention.Parameters) * 0.3f);
        return intervention;
    }
}
