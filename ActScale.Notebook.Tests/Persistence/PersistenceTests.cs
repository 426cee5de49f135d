using System.Text.Json.Nodes;
using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Persistence;
using ActScale.Tasks;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Persistence;

/// <summary>Saving, loading and reapplying runs.</summary>
public class PersistenceTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;

    private InterventionRun TrainSmall(InterventionMethod method, PreparedTask task) =>
        Trainer.Train(_model, task, new TrainingOptions { Method = method, Steps = 5, BatchSize = 3, LearningRate = 0.05, Loss = new() { LambdaM = 0.02 } }, name: $"small {method}");

    [Theory]
    [InlineData("ActivScalar")]
    [InlineData("SteerVec")]
    [InlineData("DynScalar")]
    public void SaveAndLoadAreBitIdentical(string name)
    {
        var method = InterventionRegistry.Get(name);
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = TrainSmall(method, task);
        using var folder = TinyCheckpoints.NewFolder();
        var json = RunStore.Save(run, Path.Combine(folder.Path, "runs", "small"));
        Assert.True(File.Exists(Path.Combine(folder.Path, "runs", "small.safetensors")));
        Assert.Empty(Directory.GetFiles(Path.Combine(folder.Path, "runs"), "*.tmp"));
        using var loaded = RunStore.Load(json, _model);
        Assert.Equal(run.Parameters.data<float>().ToArray(), loaded.Parameters.data<float>().ToArray());
        Assert.Equal(run.Parameters.shape, loaded.Parameters.shape);
        Assert.Equal(run.Name, loaded.Name);
        Assert.Equal(run.Method, loaded.Method);
        Assert.Equal(run.SiteKinds, loaded.SiteKinds);
        Assert.Equal(run.PromptLength, loaded.PromptLength);
        Assert.Equal(run.TokenLabels, loaded.TokenLabels);
        Assert.Equal(run.Options, loaded.Options with { SiteKinds = run.Options.SiteKinds });
        Assert.Equal(0.05, loaded.Options.LearningRate);
        Assert.Equal(run.ModelIdentity, loaded.ModelIdentity);
        var meta = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal(RunStore.FormatVersion, meta["format_version"]!.GetValue<int>());
        Assert.Equal(0.02, meta["options"]!["lambda_m"]!.GetValue<double>());
    }

    [Fact]
    public void LoadRefusesAnotherModelAndANewerFormat()
    {
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = TrainSmall(InterventionMethod.ActivScalar, task);
        using var folder = TinyCheckpoints.NewFolder();
        var json = RunStore.Save(run, Path.Combine(folder.Path, "run.json"));

        var other = Path.Combine(folder.Path, "other-model");
        TinyCheckpoints.WriteGpt2(other, new TinyCheckpoints.Gpt2Shape(Layers: 1, Width: 16, Heads: 2, Context: 32), seed: 4);
        using var otherModel = ActScale.Model.LanguageModel.Load(other, "cpu");
        var e = Assert.Throws<InvalidOperationException>(() => RunStore.Load(json, otherModel));
        Assert.Contains(_model.Identity, e.Message);
        Assert.Contains(otherModel.Identity, e.Message);

        var meta = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        meta["format_version"] = RunStore.FormatVersion + 1;
        File.WriteAllText(json, meta.ToJsonString());
        var newer = Assert.Throws<InvalidDataException>(() => RunStore.Load(json, _model));
        Assert.Contains($"format {RunStore.FormatVersion + 1}", newer.Message);
        Assert.Contains($"up to {RunStore.FormatVersion}", newer.Message);
    }

    [Fact]
    public void ReapplyShowsTopTokensAndRefusesAnotherPromptLength()
    {
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = TrainSmall(InterventionMethod.ActivScalar, task);
        var prompt = "The capital of Norway is Lima. The capital of Norway is";
        Assert.Equal(run.PromptLength, _model.Tokenizer.Encode(prompt).Length);
        var top = Reapply.TopTokens(_model, run, prompt, k: 5, beta: -1);
        Assert.Equal(5, top.Before.Count);
        Assert.Equal(5, top.After.Count);
        Assert.True(top.Before[0].Probability >= top.Before[4].Probability);
        Assert.NotEqual(top.Before.Select(t => t.Probability), top.After.Select(t => t.Probability));

        var e = Assert.Throws<TaskDataException>(() => Reapply.TopTokens(_model, run, "The capital of Norway is"));
        Assert.Contains($"its training length of {run.PromptLength} tokens", e.Message);
        Assert.Contains("has 5 tokens", e.Message);

        using var dyn = TrainSmall(InterventionMethod.DynScalar, task);
        Assert.Equal(3, Reapply.TopTokens(_model, dyn, "The capital of Norway is", k: 3).After.Count);
    }
}
