using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Persistence;
using ActScale.Tests.Interventions;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Persistence;

/// <summary>A saved run records its first intervened position; a run saved before that setting existed loads as position 0.</summary>
public class FirstPositionPersistenceTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;

    private InterventionRun Train(PreparedTask task, int firstPosition) => Trainer.Train(_model, task,
        new TrainingOptions { Steps = 5, BatchSize = 3, LearningRate = 0.05, FirstPosition = firstPosition });

    [Fact]
    public void ASavedRunKeepsItsFirstPosition()
    {
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = Train(task, firstPosition: 3);
        using var folder = TinyCheckpoints.NewFolder();
        using var loaded = RunStore.Load(RunStore.Save(run, Path.Combine(folder.Path, "run")), _model);
        Assert.Equal(3, loaded.Options.FirstPosition);
        Assert.Equal(run.ParameterCount, loaded.ParameterCount);
    }

    /// <summary>
    /// The file is what ActScale wrote before FirstPosition existed: format 2 without "first_position", sealed as the store
    /// seals (SHA-256 of the compact JSON without the seal). Its run intervened at every position, and so must the loaded one.
    /// </summary>
    [Fact]
    public void ARunSavedBeforeFirstPositionExistedLoadsAsPositionZeroAndActsAsItDid()
    {
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var run = Train(task, firstPosition: 0);
        using var folder = TinyCheckpoints.NewFolder();
        var json = RunStore.Save(run, Path.Combine(folder.Path, "old"));
        var meta = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.True(meta["options"]!.AsObject().Remove("first_position"), "the store no longer writes first_position");
        meta.Remove("content_sha256");
        meta["content_sha256"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(meta.ToJsonString()))).ToLowerInvariant();
        File.WriteAllText(json, meta.ToJsonString());

        using var loaded = RunStore.Load(json, _model);
        Assert.Equal(0, loaded.Options.FirstPosition);
        Assert.Equal(run.Parameters.numel(), loaded.ParameterCount);
        Assert.NotEqual(0f, loaded.Parameters.narrow(2, 0, 1).abs().max().item<float>()); // position 0 was trained
        using var ids = _model.Encode(TinyModelFixture.SameLengthTask()[0].Prompt);
        Assert.True(InterventionTests.Identical(Logits(run, ids), Logits(loaded, ids)));
    }

    private TorchSharp.torch.Tensor Logits(InterventionRun run, TorchSharp.torch.Tensor ids)
    {
        using var intervention = run.CreateIntervention(_model.Device);
        var hooks = new HookSet();
        using var attached = intervention.Attach(hooks, 1.0);
        return _model.Transformer.Logits(ids, hooks);
    }
}
