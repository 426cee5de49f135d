using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Tests.Support;
using static TorchSharp.torch;

namespace ActScale.Tests.Interventions;

/// <summary>The three interventions' formulas, identities at zero, padding behaviour and where gradients go.</summary>
public class InterventionTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;
    private static readonly SiteKind[] Kinds = [SiteKind.AttnOut, SiteKind.MlpOut];

    internal static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a - b).abs().max().item<float>() == 0f;

    private Tensor Ids(string text) => _model.Encode(text);

    private InterventionLayout Layout(int layers, int? promptLength) => new(Kinds, layers, _model.Config.Width, promptLength);

    [Theory]
    [InlineData("ActivScalar")]
    [InlineData("SteerVec")]
    [InlineData("DynScalar")]
    public void ZeroParametersAreTheIdentity(string name)
    {
        var method = InterventionRegistry.Get(name);
        using var ids = Ids("The capital of France is");
        using var clean = _model.Transformer.Logits(ids);
        using var iv = Intervention.Create(method, Layout(_model.Config.LayerCount, (int)ids.shape[1]), _model.Device);
        foreach (var beta in new[] { 1.0, -1.0 })
        {
            var hooks = new HookSet();
            using var _ = iv.Attach(hooks, beta);
            using var intervened = _model.Transformer.Logits(ids, hooks);
            Assert.True(Identical(clean, intervened), $"{method} at 0 changed the logits (β={beta})");
        }
    }

    /// <summary>Captures blocks.0.attn_out with and without the intervention (the intervention on layer 1 is irrelevant here).</summary>
    private (Tensor Clean, Tensor Intervened) CaptureAttn0(Intervention iv, Tensor ids, double beta)
    {
        var cleanHooks = new HookSet();
        var site = new Site(0, SiteKind.AttnOut);
        cleanHooks.Capture(site);
        using (_model.Transformer.Hidden(ids, cleanHooks)) { }
        var hooks = new HookSet();
        using var attached = iv.Attach(hooks, beta);
        hooks.Capture(site);
        using (_model.Transformer.Hidden(ids, hooks)) { }
        return (cleanHooks.Captured[site], hooks.Captured[site]);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-1.0)]
    [InlineData(0.5)]
    public void ActivScalarScalesOneVectorByOnePlusBetaAlpha(double beta)
    {
        using var ids = Ids("The capital of France is");
        int p = (int)ids.shape[1];
        using var iv = Intervention.Create(InterventionMethod.ActivScalar, Layout(2, p), _model.Device);
        using (no_grad()) iv.Parameters[0, 0, 2] = tensor(0.7f);
        var (clean, intervened) = CaptureAttn0(iv, ids, beta);
        using var expected = clean.clone();
        using (var slice = expected[0, 2]) slice.mul_(1 + beta * 0.7);
        Assert.True(intervened.allclose(expected, rtol: 1e-6, atol: 1e-6));
        Assert.True(Identical(intervened[0, 1], clean[0, 1]));
        clean.Dispose(); intervened.Dispose();
    }

    [Fact]
    public void SteerVecAddsBetaTimesV()
    {
        using var ids = Ids("The capital of France is");
        int p = (int)ids.shape[1];
        using var iv = Intervention.Create(InterventionMethod.SteerVec, Layout(2, p), _model.Device);
        using var v = linspace(-1, 1, _model.Config.Width);
        using (no_grad()) iv.Parameters[0, 0, 3] = v;
        var (clean, intervened) = CaptureAttn0(iv, ids, beta: -1);
        using var expected = clean.clone();
        using (var slice = expected[0, 3]) slice.sub_(v);
        Assert.True(intervened.allclose(expected, rtol: 1e-6, atol: 1e-6));
        clean.Dispose(); intervened.Dispose();
    }

    [Fact]
    public void DynScalarUsesAProbeOfTheActivation()
    {
        using var ids = Ids("The capital of France is");
        using var iv = Intervention.Create(InterventionMethod.DynScalar, Layout(2, null), _model.Device);
        int d = _model.Config.Width;
        using var w = linspace(-0.1, 0.1, d);
        using (no_grad()) { iv.Parameters[0, 0].narrow(0, 0, d).copy_(w); iv.Parameters[0, 0, d] = tensor(0.3f); }
        var (clean, intervened) = CaptureAttn0(iv, ids, beta: 1);
        using var alpha = (clean / clean.norm(-1, keepdim: true)).matmul(w) + 0.3; // [1, T]: the probe reads h's direction
        using var expected = clean * (alpha.unsqueeze(-1) + 1);
        Assert.True(intervened.allclose(expected, rtol: 1e-5, atol: 1e-6));
        clean.Dispose(); intervened.Dispose();
    }

    [Fact]
    public void DynScalarOnAPaddedMixedLengthBatchEqualsPromptsOneByOne()
    {
        PromptExample[] examples =
        [
            new("The capital of France is", " Paris", " Rome", "train"),
            new("When Mary and John went to the store, John gave a drink to", " Mary", " John", "train"),
            new("Hello", " world", " there", "train"),
        ];
        using var task = PreparedTask.Prepare(_model, examples, samePromptLength: false);
        using var iv = Intervention.Create(InterventionMethod.DynScalar, Layout(2, null), _model.Device);
        using (no_grad())
        {
            var generator = new Random(3);
            var values = Enumerable.Range(0, (int)iv.ParameterCount).Select(_ => (float)(generator.NextDouble() - 0.5) * 0.2f).ToArray();
            iv.Parameters.copy_(tensor(values).view(iv.Parameters.shape));
        }
        var hooks = new HookSet();
        using var _ = iv.Attach(hooks);
        using var __ = no_grad();
        var split = task.Train;
        using var batched = LastToken.Logits(_model.Transformer, split.Ids, split.LastIndex, hooks);
        for (int i = 0; i < examples.Length; i++)
        {
            using var ids = Ids(examples[i].Prompt);
            using var single = _model.Transformer.Logits(ids, hooks);
            using var last = single[0, -1];
            Assert.True(batched[i].allclose(last, rtol: 1e-4, atol: 1e-4), $"prompt {i} differs when padded");
        }
    }

    [Fact]
    public void GradientsReachOnlyTheInterventionParameters()
    {
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var iv = Intervention.Create(InterventionMethod.ActivScalar, Layout(2, task.PromptLength), _model.Device);
        using var scope = NewDisposeScope();
        var rows = arange(task.Train.Count, dtype: ScalarType.Int64);
        var (loss, _, _, _) = ObjectiveFunction.Compute(_model.Transformer, iv, task.Train, rows, new LossSettings { LambdaM = 0 });
        loss.backward();
        Assert.NotNull(iv.Parameters.grad);
        Assert.True(iv.Parameters.grad!.abs().sum().item<float>() > 0);
        // No model weight takes part in autograd: a clean forward does not require grad.
        using var hidden = _model.Transformer.Hidden(task.Train.Ids);
        Assert.False(hidden.requires_grad);
    }

    [Fact]
    public void PositionalInterventionRefusesAnotherPromptLength()
    {
        using var iv = Intervention.Create(InterventionMethod.ActivScalar, Layout(2, 7), _model.Device);
        var hooks = new HookSet();
        using var _ = iv.Attach(hooks);
        using var ids = Ids("The capital of France is");
        var e = Assert.Throws<TaskDataException>(() => _model.Transformer.Logits(ids, hooks));
        Assert.Contains("its training length of 7 tokens", e.Message);
        Assert.Contains($"has {ids.shape[1]} tokens", e.Message);
    }

    [Fact]
    public void ParameterLayoutIsOneTensorPerMethod()
    {
        var layout = new InterventionLayout(Kinds, 12, 768, 15);
        Assert.Equal(new long[] { 2, 12, 15 }, InterventionMethod.ActivScalar.ParameterShape(layout));
        Assert.Equal(new long[] { 2, 12, 15, 768 }, InterventionMethod.SteerVec.ParameterShape(layout));
        Assert.Equal(new long[] { 2, 12, 769 }, InterventionMethod.DynScalar.ParameterShape(layout with { PromptLength = null }));
    }
}
