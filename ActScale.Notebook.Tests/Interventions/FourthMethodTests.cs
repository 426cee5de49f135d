using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Persistence;
using ActScale.Tests.Notebook;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Interventions;

/// <summary>
/// The recipe "add an intervention" of docs/architecture.md: <see cref="Clamp"/>, one class registered once, trains,
/// evaluates, draws, saves, loads and is offered by the notebook's --method like the built-in methods.
/// </summary>
public class FourthMethodTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;

    static FourthMethodTests() => InterventionRegistry.Register(new Clamp());

    [Fact]
    public void AMethodDefinedOutsideTheLibraryTrainsEvaluatesDrawsAndSaves()
    {
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: false);
        var options = new TrainingOptions { Method = InterventionRegistry.Get("clamp"), Steps = 5, BatchSize = 3, LearningRate = 0.1, Loss = new() { LambdaM = 0 } };
        using var run = Trainer.Train(_model, task, options);
        Assert.Equal(new long[] { 2, _model.Config.LayerCount, 1 }, run.Parameters.shape);
        Assert.True(run.L1() > 0, "training did not move the clamp weights");

        var rows = Evaluator.Evaluate(_model, run, task);
        Assert.Equal(6, rows.Count); // train and test, each at the clean β = 0 and ±1
        Assert.All(rows, r => Assert.Equal("Clamp", r.Method));
        var heatmap = run.Heatmap();
        Assert.Equal(["θ"], heatmap.ColumnLabels);
        Assert.Equal("clamp weight", heatmap.ColumnTitle);

        using var folder = TinyCheckpoints.NewFolder();
        var path = RunStore.Save(run, Path.Combine(folder.Path, "clamp.json"));
        using var loaded = RunStore.Load(path, _model);
        Assert.IsType<Clamp>(loaded.Method);
        Assert.Equal(run.Parameters.data<float>().ToArray(), loaded.Parameters.data<float>().ToArray());
    }

    [Fact]
    public async Task TheNotebookTrainsAndDrawsItByName()
    {
        using var folder = TinyCheckpoints.NewFolder();
        TinyCheckpoints.WriteGpt2(folder.Path);
        using var kernel = new NotebookKernel();
        foreach (var code in new[]
                 {
                     $"#!actscale load --model \"{folder.Path}\" --device cpu",
                     "#!actscale data --task ccc --train 6 --test 2",
                     "#!actscale train --method clamp --steps 2",
                     "#!actscale heatmap clamp",
                 })
        {
            var result = await kernel.SubmitAsync(code);
            Assert.True(result.Succeeded, $"{code}\n{result}");
        }
    }
}
