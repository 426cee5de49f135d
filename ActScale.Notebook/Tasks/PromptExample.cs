namespace ActScale.Tasks;

/// <summary>
/// One prompt of a steering task: the model should prefer <see cref="Correct"/> over <see cref="Wrong"/> as the
/// next token after <see cref="Prompt"/>. <see cref="Split"/> is "train" or "test" (any name is allowed);
/// <see cref="Template"/> names the template the prompt came from (free text, may be empty).
/// </summary>
public sealed record PromptExample(string Prompt, string Correct, string Wrong, string Split, string Template = "")
{
    /// <summary>The prompt with its answer-relevant word swapped (same token count), for activation patching; null when none.</summary>
    public string? Corrupt { get; init; }

    public const string Train = "train";
    public const string Test = "test";
}

/// <summary>A problem with a task's data, worded so the user knows what to change.</summary>
public sealed class TaskDataException(string message) : Exception(message);
