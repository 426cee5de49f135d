using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Training;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

/// <summary>Typed option values, wherever they were typed: a magic command in a kernel, or the actscale command line.</summary>
public interface IOptionValues
{
    /// <summary>The value of <paramref name="option"/>, parsed and range-checked by its declaration.</summary>
    T Get<T>(MagicOption<T> option);
}

/// <summary>
/// The training options read from their declarations: one reading for the train and sweep magics and the actscale tool,
/// so all three accept the same values and refuse the same mistakes with the same words.
/// </summary>
public static class TrainingOptionsReader
{
    /// <summary>The options train and sweep share; <paramref name="loss"/> adds train's loss weights.</summary>
    public static TrainingOptions Read(IOptionValues values, LossSettings? loss = null)
    {
        var options = new TrainingOptions
        {
            Method = InterventionRegistry.Get(values.Get(TrainingArgs.Method)),
            SiteKinds = ReadSites(values.Get(TrainingArgs.Sites)),
            Steps = values.Get(TrainingArgs.Steps),
            BatchSize = values.Get(TrainingArgs.Batch),
            Seed = values.Get(TrainingArgs.Seed),
            FirstPosition = values.Get(TrainingArgs.FirstPosition),
            Loss = loss ?? new LossSettings(),
        };
        return values.Get(TrainingArgs.LearningRate) is double rate ? options with { LearningRate = rate } : options;
    }

    /// <summary>train's loss weights (--margin, --lambda-f, --lambda-m).</summary>
    public static LossSettings ReadLoss(IOptionValues values) => new()
    {
        Margin = values.Get(TrainArgs.Margin),
        LambdaF = values.Get(TrainArgs.LambdaF),
        LambdaM = values.Get(TrainArgs.LambdaM),
    };

    internal static SiteKind[] ReadSites(string? text)
    {
        if (text is null) return TrainingOptions.DefaultSiteKinds;
        try
        {
            return Options.Split(text).Select(Site.ParseKind).Distinct().ToArray();
        }
        catch (ArgumentException e) { throw new UsageException("--sites: " + e.Message); }
    }
}
