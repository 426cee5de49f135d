namespace ActScale.Tests.Support;

/// <summary>
/// A fact that needs a model under ../shared/models; it is reported as skipped, with the reason, on a machine
/// that has no such folder.
/// </summary>
public sealed class SharedModelFactAttribute : FactAttribute
{
    public SharedModelFactAttribute(string modelName)
    {
        if (SharedModel(modelName) is null)
            Skip = $"../shared/models/{modelName} is not on this machine (looked beside {RepoPaths.Root}).";
    }

    /// <summary>The model's folder under ../shared/models, or null when it is not there.</summary>
    public static string? SharedModel(string modelName)
    {
        var folder = RepoPaths.Shared is string shared ? Path.Combine(shared, "models", modelName) : null;
        return folder is not null && File.Exists(Path.Combine(folder, "config.json")) ? folder : null;
    }
}
