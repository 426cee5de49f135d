using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Persistence;
using ActScale.Tasks;
using ActScale.Tests.Notebook;
using ActScale.Tests.Support;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Tests.Interventions;

/// <summary>
/// The three methods on the per-head site <c>attn_head</c>: its width is heads × head width (48, not the model width 32, on
/// the tiny Llama), ActivScalar keeps one scalar per (layer, head, position), and its runs draw, save and load per head.
/// </summary>
public class HeadInterventionTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private static readonly SiteKind[] Heads = [SiteKind.AttnHead];

    public static TheoryData<string, string> FamiliesAndMethods()
    {
        var data = new TheoryData<string, string>();
        foreach (var family in new[] { "tiny-gpt2", "tiny-llama" }) // the tiny GPT-2 is the class fixture's
            foreach (var method in new[] { "ActivScalar", "SteerVec", "DynScalar" }) data.Add(family, method);
        return data;
    }

    [Theory]
    [MemberData(nameof(FamiliesAndMethods))]
    public void EachMethodActsOnTheHeadSiteAtItsOwnWidth(string family, string methodName)
    {
        using var loaded = family == "tiny-llama" ? LanguageModel.Load(FamilyFixtures.Folder(family), "cpu") : null;
        var model = loaded ?? fixture.Model;
        var c = model.Config;
        var method = InterventionRegistry.Get(methodName);
        int promptLength = FamilyFixtures.Prompt.Length, headWidth = c.HeadCount * c.HeadDim;
        var layout = InterventionLayout.For(Heads, c, promptLength);
        using var intervention = Intervention.Create(method, layout, model.Device);
        long[] expected = methodName switch
        {
            "ActivScalar" => [1, c.LayerCount, promptLength, c.HeadCount],
            "SteerVec" => [1, c.LayerCount, promptLength, headWidth],
            _ => [1, c.LayerCount, headWidth + 1],
        };
        Assert.Equal(expected, intervention.Parameters.shape);

        using (no_grad()) intervention.Parameters.copy_(rand_like(intervention.Parameters) - 0.5);
        using var input = tensor(FamilyFixtures.Prompt).unsqueeze(0);
        using var plain = model.Transformer.Logits(input);
        var hooks = new HookSet();
        using (intervention.Attach(hooks))
        using (var steered = model.Transformer.Logits(input, hooks))
            Assert.False(plain.allclose(steered, rtol: 0, atol: 1e-6), $"{methodName} on attn_head did not change the logits");
    }

    [Fact]
    public void AnActivScalarOfMinusOneErasesOnlyItsOwnHeadAtItsOwnPosition()
    {
        var layout = new InterventionLayout(Heads, LayerCount: 2, Width: 12, PromptLength: 3, HeadCount: 4);
        using var intervention = Intervention.Create(InterventionMethod.ActivScalar, layout, CPU);
        using (no_grad()) intervention.Parameters[0, 1, 2, 1] = tensor(-1f);
        using var h = rand(2, 3, 12) + 1;
        using var beta = tensor(1f);
        using var changed = intervention.Apply(0, 1, h, beta);
        using var expected = h.clone();
        expected[.., 2, 3..6] = tensor(0f);
        Assert.True(changed.allclose(expected), "α = −1 must zero head 1 (features 3–5) at position 2 and leave the rest");
        using var untouched = intervention.Apply(0, 0, h, beta);
        Assert.True(untouched.allclose(h, rtol: 0, atol: 0), "layer 0's scalars are 0, the identity");

        // The effect row of that scalar is layer 1 · 4 heads + head 1, and it maps back to the same parameter.
        using var effect = InterventionMethod.ActivScalar.Effect(intervention.Parameters.detach());
        Assert.Equal(-1f, effect[0, 5, 2].item<float>());
        Assert.Equal(new long[] { 0, 1, 2, 1 }, InterventionMethod.ActivScalar.ParameterIndex([0, 5, 2], intervention.Parameters.shape));
    }

    [Fact]
    public void APerHeadRunTrainsDrawsLayerByHeadAndSurvivesSaving()
    {
        var model = fixture.Model;
        using var task = PreparedTask.Prepare(model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        var options = new TrainingOptions { Method = InterventionMethod.ActivScalar, SiteKinds = Heads, Steps = 4, BatchSize = 3, LearningRate = 0.1 };
        using var run = Trainer.Train(model, task, options);
        int heads = model.Config.HeadCount, layers = model.Config.LayerCount;
        Assert.Equal(new long[] { 1, layers, task.PromptLength!.Value, heads }, run.Parameters.shape);
        Assert.True(run.L1() > 0, "training did not move the head scalars");

        var heatmap = run.Heatmap();
        Assert.Equal(Enumerable.Range(0, layers * heads).Select(i => $"L{i / heads} H{i % heads}"), heatmap.RowLabels);
        Assert.Equal(task.PromptLength!.Value, heatmap.Columns);
        using (var p = run.Parameters.cpu())
            Assert.Equal(p[0, 1, 2, heads - 1].item<float>(), heatmap.Values[layers * heads - 1, 2], 6);

        using var folder = TinyCheckpoints.NewFolder();
        var path = RunStore.Save(run, Path.Combine(folder.Path, "heads.json"));
        using var loaded = RunStore.Load(path, model);
        Assert.Equal(heads, loaded.Layout.HeadCount);
        Assert.Equal(run.Parameters.data<float>().ToArray(), loaded.Parameters.data<float>().ToArray());
    }

    [Fact]
    public void AttnHeadCannotShareARunWithWholeVectorSites()
    {
        var layout = new InterventionLayout([SiteKind.AttnHead, SiteKind.MlpOut], 2, 16, 5, 2);
        var error = Assert.Throws<ArgumentException>(() => Intervention.Create(InterventionMethod.ActivScalar, layout, CPU));
        Assert.Contains("--sites attn_head", error.Message);
    }

    [Fact]
    public async Task TheNotebookTrainsLocalizesAndDrawsActivScalarPerHead()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var kernel = new NotebookKernel();
        NotebookKernel.Result? last = null;
        foreach (var code in new[]
                 {
                     $"#!actscale load --model \"{folder.Path}\" --device cpu",
                     "#!actscale data --task ccc --train 6 --test 2",
                     "#!actscale train --method activscalar --sites attn_head --steps 2 --name heads",
                     "#!actscale localize heads", // keeps the top-k cells, which it finds in the effect's (layer, head) rows
                     "#!actscale heatmap heads",
                 })
        {
            last = await kernel.SubmitAsync(code);
            Assert.True(last.Succeeded, $"{code}\n{last}");
        }
        Assert.Contains("L0 H1", last!.AllHtml);
    }
}
