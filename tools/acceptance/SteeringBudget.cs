using System.Globalization;

namespace ActScale.Acceptance;

/// <summary>
/// Overrides of ActScale's default training steps, learning rate and seed; null keeps the library's default. The seed
/// shows how much a check moves with the minibatch order alone. Parse also reads the model folder and the split seeds.
/// </summary>
internal sealed record SteeringBudget(int? Steps, double? LearningRate, int? Seed = null)
{
    /// <summary>Reads [MODEL_FOLDER] [--steps N] [--lr X] [--seed S] [--split-seeds 101,202] from the command line (split seeds default to 101).</summary>
    public static (string? Folder, SteeringBudget Budget, int[] SplitSeeds) Parse(string[] args)
    {
        string? folder = null;
        int? steps = null;
        double? rate = null;
        int? seed = null;
        int[] splitSeeds = [101];
        for (int i = 0; i < args.Length; i++)
        {
            string Value(string example) => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value, e.g. {args[i]} {example}.");
            switch (args[i])
            {
                case "--steps": steps = int.Parse(Value("400"), CultureInfo.InvariantCulture); break;
                case "--lr": rate = double.Parse(Value("0.02"), CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Value("1"), CultureInfo.InvariantCulture); break;
                case "--split-seeds": splitSeeds = Value("101,202").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal) || folder is not null)
                        throw new ArgumentException($"Unexpected argument '{args[i]}'. Usage: [MODEL_FOLDER] [--steps N] [--lr X] [--seed S] [--split-seeds 101,202]");
                    folder = args[i];
                    break;
            }
        }
        return (folder, new SteeringBudget(steps, rate, seed), splitSeeds);
    }

    public override string ToString() => Steps is null && LearningRate is null && Seed is null
        ? "with ActScale's default training options"
        : $"with steps {Steps?.ToString(CultureInfo.InvariantCulture) ?? "default"}, lr {LearningRate?.ToString(CultureInfo.InvariantCulture) ?? "default"}, " +
          $"training seed {Seed?.ToString(CultureInfo.InvariantCulture) ?? "default"}";
}
