using System.Globalization;

namespace ActScale.Acceptance;

/// <summary>Overrides of ActScale's default training steps and learning rate; null keeps the library's default.</summary>
internal sealed record SteeringBudget(int? Steps, double? LearningRate)
{
    /// <summary>Reads [MODEL_FOLDER] [--steps N] [--lr X] from the command line.</summary>
    public static (string? Folder, SteeringBudget Budget) Parse(string[] args)
    {
        string? folder = null;
        int? steps = null;
        double? rate = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value, e.g. {args[i]} 400.");
            switch (args[i])
            {
                case "--steps": steps = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--lr": rate = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal) || folder is not null)
                        throw new ArgumentException($"Unexpected argument '{args[i]}'. Usage: [MODEL_FOLDER] [--steps N] [--lr X]");
                    folder = args[i];
                    break;
            }
        }
        return (folder, new SteeringBudget(steps, rate));
    }

    public override string ToString() => Steps is null && LearningRate is null
        ? "with ActScale's default training options"
        : $"with steps {Steps?.ToString(CultureInfo.InvariantCulture) ?? "default"}, lr {LearningRate?.ToString(CultureInfo.InvariantCulture) ?? "default"}";
}
