using System.Globalization;

namespace ActScale.Acceptance;

/// <summary>Overrides of ActScale's default training steps and learning rate; null keeps the library's default. Parse also reads the model folder and the split seeds.</summary>
internal sealed record SteeringBudget(int? Steps, double? LearningRate)
{
    /// <summary>Reads [MODEL_FOLDER] [--steps N] [--lr X] [--split-seeds 101,202] from the command line (split seeds default to 101).</summary>
    public static (string? Folder, SteeringBudget Budget, int[] SplitSeeds) Parse(string[] args)
    {
        string? folder = null;
        int? steps = null;
        double? rate = null;
        int[] splitSeeds = [101];
        for (int i = 0; i < args.Length; i++)
        {
            string Value(string example) => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value, e.g. {args[i]} {example}.");
            switch (args[i])
            {
                case "--steps": steps = int.Parse(Value("400"), CultureInfo.InvariantCulture); break;
                case "--lr": rate = double.Parse(Value("0.02"), CultureInfo.InvariantCulture); break;
                case "--split-seeds": splitSeeds = Value("101,202").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal) || folder is not null)
                        throw new ArgumentException($"Unexpected argument '{args[i]}'. Usage: [MODEL_FOLDER] [--steps N] [--lr X] [--split-seeds 101,202]");
                    folder = args[i];
                    break;
            }
        }
        return (folder, new SteeringBudget(steps, rate), splitSeeds);
    }

    public override string ToString() => Steps is null && LearningRate is null
        ? "with ActScale's default training options"
        : $"with steps {Steps?.ToString(CultureInfo.InvariantCulture) ?? "default"}, lr {LearningRate?.ToString(CultureInfo.InvariantCulture) ?? "default"}";
}
