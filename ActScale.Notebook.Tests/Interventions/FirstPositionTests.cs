using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Tests.Support;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Tests.Interventions;

/// <summary>
/// Positions before <see cref="TrainingOptions.FirstPosition"/> are left exactly as the clean model has them, by every
/// method and on every forward path, and their parameters are neither trained nor counted.
/// </summary>
public class FirstPositionTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;
    private static readonly SiteKind[] Kinds = [SiteKind.ResidPre, SiteKind.AttnOut, SiteKind.MlpOut, SiteKind.ResidPost];
    private const string Prompt = "The capital of France is Rome. The capital of France is";

    public static TheoryData<string> Methods => new(["ActivScalar", "SteerVec", "DynScalar"]);

    private InterventionLayout Layout(InterventionMethod method, int length, int firstPosition) =>
        InterventionLayout.For(Kinds, _model.Config, method.IsPositional ? length : null, firstPosition);

    /// <summary>An intervention whose parameters are all non-zero, at position 0 too.</summary>
    private Intervention Random(InterventionMethod method, InterventionLayout layout)
    {
        var intervention = Intervention.Create(method, layout, _model.Device);
        manual_seed(11);
        using (no_grad()) intervention.Parameters.copy_(randn_like(intervention.Parameters) * 0.3f + 0.2f);
        return intervention;
    }

    /// <summary>Every site's activation in a full forward of <paramref name="ids"/>, with <paramref name="intervention"/> attached when given.</summary>
    private Dictionary<Site, Tensor> Activations(Tensor ids, Intervention? intervention)
    {
        var hooks = new HookSet();
        using var attached = intervention?.Attach(hooks, 1.0);
        var sites = Enumerable.Range(0, _model.Config.LayerCount).SelectMany(l => Kinds.Select(k => new Site(l, k))).ToArray();
        foreach (var site in sites) hooks.Capture(site);
        using (_model.Transformer.Hidden(ids, hooks)) { }
        return sites.ToDictionary(s => s, s => hooks.Captured[s]);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void PositionZeroEqualsTheCleanRunBitForBitInTheFullForward(string name)
    {
        var method = InterventionRegistry.Get(name);
        using var ids = _model.Encode(Prompt);
        int length = (int)ids.shape[1];
        using var intervention = Random(method, Layout(method, length, firstPosition: 1));
        var clean = Activations(ids, null);
        var intervened = Activations(ids, intervention);
        foreach (var (site, h) in clean)
        {
            Assert.True(InterventionTests.Identical(h[0, 0], intervened[site][0, 0]), $"{method} changed position 0 of {site}");
            Assert.False(InterventionTests.Identical(h[0, 1..], intervened[site][0, 1..]), $"{method} changed nothing after position 0 of {site}");
        }
        foreach (var h in clean.Values.Concat(intervened.Values)) h.Dispose();
    }

    /// <summary>
    /// Parameters at position 0 alone: with the default first position they change nothing, in the full and in the
    /// last-position forward; with first position 0 (the check can fail) they change both.
    /// </summary>
    [Theory]
    [InlineData("ActivScalar")]
    [InlineData("SteerVec")]
    public void ParametersAtPositionZeroAloneChangeNothingInEitherForward(string name)
    {
        var method = InterventionRegistry.Get(name);
        using var ids = _model.Encode(Prompt);
        int length = (int)ids.shape[1];
        using var last = tensor(new long[] { length - 1 });
        using var cleanLogits = _model.Transformer.Logits(ids);
        using var cleanLast = _model.Transformer.LastHidden(ids, last);
        foreach (var first in new[] { 1, 0 })
        {
            using var intervention = Random(method, Layout(method, length, first));
            using (no_grad()) intervention.Parameters.narrow(2, 1, length - 1).zero_();
            var hooks = new HookSet();
            using var attached = intervention.Attach(hooks, -1.0);
            using var logits = _model.Transformer.Logits(ids, hooks);
            using var lastHidden = _model.Transformer.LastHidden(ids, last, hooks);
            Assert.Equal(first == 1, InterventionTests.Identical(cleanLogits, logits));
            Assert.Equal(first == 1, InterventionTests.Identical(cleanLast, lastHidden));
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void TheLastPositionForwardEqualsTheFullForward(string name)
    {
        var method = InterventionRegistry.Get(name);
        using var ids = _model.Encode(Prompt);
        int length = (int)ids.shape[1];
        using var last = tensor(new long[] { length - 1 });
        using var intervention = Random(method, Layout(method, length, firstPosition: 3));
        var hooks = new HookSet();
        using var attached = intervention.Attach(hooks, 1.0);
        using var full = _model.Transformer.Hidden(ids, hooks);
        using var reduced = _model.Transformer.LastHidden(ids, last, hooks);
        Assert.True((full[0, -1] - reduced[0]).abs().max().item<float>() < 1e-5f);
    }

    /// <summary>Both trainers, by every method: the parameters before the first position stay exactly 0 and are not counted.</summary>
    [Theory]
    [MemberData(nameof(Methods))]
    public void TrainingLeavesTheParametersBeforeTheFirstPositionAtZero(string name)
    {
        var method = InterventionRegistry.Get(name);
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        var options = new TrainingOptions { Method = method, Steps = 4, BatchSize = 3, LearningRate = 0.05, FirstPosition = 2, Loss = new() { L1 = L1Reduction.Mean } };
        using var single = Trainer.Train(_model, task, options);
        var outcomes = BatchedTrainer.Train(_model, task, [options, options with { Seed = 1 }]);
        InterventionRun[] runs = [single, .. outcomes.Select(o => o.Run!)];
        int length = task.PromptLength!.Value, sites = options.SiteKinds.Count, layers = _model.Config.LayerCount;
        long expected = method == InterventionMethod.ActivScalar ? sites * layers * (length - 2)
            : method == InterventionMethod.SteerVec ? sites * layers * (length - 2) * _model.Config.Width
            : sites * layers * (_model.Config.Width + 1);
        foreach (var run in runs)
        {
            Assert.Equal(expected, run.ParameterCount);
            Assert.True(run.L1() > 0);
            if (method.IsPositional) Assert.Equal(0f, run.Parameters.narrow(2, 0, 2).abs().max().item<float>());
        }
        foreach (var run in runs[1..]) run.Dispose();
    }

    [Fact]
    public void ParameterCountsLeaveOutThePositionsBeforeTheFirst()
    {
        var layout = new InterventionLayout([SiteKind.AttnOut, SiteKind.MlpOut], 12, 768, 15, FirstPosition: 1);
        Assert.Equal(2 * 12 * 14, InterventionMethod.ActivScalar.TrainedParameterCount(layout));
        Assert.Equal(2 * 12 * 14 * 768, InterventionMethod.SteerVec.TrainedParameterCount(layout));
        Assert.Equal(2 * 12 * 769, InterventionMethod.DynScalar.TrainedParameterCount(layout with { PromptLength = null }));
        Assert.Equal(2 * 12 * 15, InterventionMethod.ActivScalar.TrainedParameterCount(layout with { FirstPosition = 0 }));
        var heads = new InterventionLayout([SiteKind.AttnHead], 12, 768, 15, HeadCount: 12, FirstPosition: 3);
        Assert.Equal(12 * 12 * 12, InterventionMethod.ActivScalar.TrainedParameterCount(heads));
    }

    [Fact]
    public void AFirstPositionOutsideThePromptIsRefusedWithWhatToDo()
    {
        var negative = Assert.Throws<ArgumentException>(() => new TrainingOptions { FirstPosition = -1 }.Check());
        Assert.Contains("FirstPosition must be ≥ 0; got -1.", negative.Message);
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        int length = task.PromptLength!.Value;
        var tooFar = Assert.Throws<ArgumentException>(() => Trainer.Train(_model, task, new TrainingOptions { Steps = 1, FirstPosition = length }));
        Assert.Contains($"Choose a first position from 0 to {length - 1} (--first-position)", tooFar.Message);
        var layout = Assert.Throws<ArgumentException>(() => Intervention.Create(InterventionMethod.SteerVec,
            new InterventionLayout(Kinds, 2, _model.Config.Width, 5, FirstPosition: 5), _model.Device));
        Assert.Contains("choose one from 0 to 4", layout.Message);
    }
}
