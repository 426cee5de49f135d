using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Training;

namespace ActScale.Tests.Support;

/// <summary>
/// A short ActivScalar run on the tiny model's same-length task (full batches of the six training prompts, learning rate
/// 0.1) together with the prepared task it trained on: what the localisation tests measure curves and maps of.
/// </summary>
public sealed class TinyActivScalarRun : IDisposable
{
    public TinyActivScalarRun(LanguageModel model, int steps)
    {
        Task = PreparedTask.Prepare(model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        try
        {
            Run = Trainer.Train(model, Task, new TrainingOptions { Method = InterventionMethod.ActivScalar, Steps = steps, BatchSize = 6, LearningRate = 0.1 });
        }
        catch
        {
            Task.Dispose();
            throw;
        }
    }

    public PreparedTask Task { get; }

    public InterventionRun Run { get; }

    public void Dispose()
    {
        Run.Dispose();
        Task.Dispose();
    }
}
