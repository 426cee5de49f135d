using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Tests.Support;
using ActScale.Training;

namespace ActScale.Tests.Support;

/// <summary>
/// The test assembly's entry point (the test SDK's generated empty Main is switched off). Under <c>dotnet test</c> it is
/// never called; <c>dotnet ActScale.Notebook.Tests.dll determinism OUT</c> runs <see cref="Determinism.Fingerprint"/> in a
/// fresh process and writes its bytes to OUT, so a test can compare two processes; <c>write-family-fixtures</c> rewrites
/// the committed tiny family checkpoints (see Fixtures/reference/README.md), <c>write-tasks</c> data/tasks/*.jsonl.
/// </summary>
public static class HelperProgram
{
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "determinism")
        {
            using var fixture = new TinyModelFixture();
            File.WriteAllBytes(args[1], Determinism.Fingerprint(fixture.Model));
            return 0;
        }
        if (args is ["write-family-fixtures"])
        {
            FamilyFixtures.WriteAll();
            return 0;
        }
        if (args is ["write-tasks"])
        {
            TaskGenerators.WriteDefaultTasks(RepoPaths.Data, TextTokenizer.FromGpt2Files(RepoPaths.Gpt2Tokenizer));
            return 0;
        }
        Console.Error.WriteLine("usage: dotnet ActScale.Notebook.Tests.dll determinism OUTPUT_FILE | write-family-fixtures | write-tasks");
        return 2;
    }
}

/// <summary>Trains every method with a fixed seed and returns its parameters and metrics as raw bytes.</summary>
public static class Determinism
{
    public static byte[] Fingerprint(ActScale.Model.LanguageModel model)
    {
        using var task = PreparedTask.Prepare(model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var bytes = new MemoryStream();
        using var writer = new BinaryWriter(bytes);
        foreach (var method in new InterventionMethod[] { InterventionMethod.ActivScalar, InterventionMethod.SteerVec, InterventionMethod.DynScalar })
        {
            using var run = Trainer.Train(model, task, new TrainingOptions { Method = method, Steps = 8, BatchSize = 3, Seed = 11, LearningRate = 0.05 });
            foreach (var v in run.Parameters.cpu().data<float>().ToArray()) writer.Write(v);
            foreach (var row in Evaluator.Evaluate(model, run, task, new EvaluationOptions([1.0, -1.0, 0.0])))
            {
                writer.Write(row.Split);
                writer.Write(row.Beta);
                writer.Write(row.FlipAccuracy);
                writer.Write(row.MeanLogitDifference);
                writer.Write(row.CleanMeanLogitDifference);
                writer.Write(row.Kl);
                writer.Write(row.L1);
                writer.Write(row.NonTrivialSites);
            }
        }
        writer.Flush();
        return bytes.ToArray();
    }
}
