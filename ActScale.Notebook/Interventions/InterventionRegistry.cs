namespace ActScale.Interventions;

/// <summary>
/// The methods by name: what saved runs are read back as, what --method accepts, and what help and completions list.
/// ActivScalar, SteerVec and DynScalar are built in; <see cref="Register"/> adds another.
/// </summary>
public static class InterventionRegistry
{
    private static readonly object Gate = new();
    private static readonly List<InterventionMethod> Methods =
        [InterventionMethod.ActivScalar, InterventionMethod.SteerVec, InterventionMethod.DynScalar];

    /// <summary>Every registered method, built-in ones first.</summary>
    public static IReadOnlyList<InterventionMethod> All
    {
        get { lock (Gate) return Methods.ToArray(); }
    }

    /// <summary>Adds <paramref name="method"/>; registering the same class again is a no-op, another class under a taken name an error.</summary>
    public static void Register(InterventionMethod method)
    {
        lock (Gate)
        {
            var taken = Methods.FirstOrDefault(m => Same(m.Name, method.Name));
            if (taken is null) Methods.Add(method);
            else if (taken.GetType() != method.GetType())
                throw new ArgumentException($"The method name '{method.Name}' is taken by {taken.GetType().FullName}; give {method.GetType().Name} another name.");
        }
    }

    /// <summary>The method called <paramref name="name"/> (any case); the error lists the known names.</summary>
    public static InterventionMethod Get(string name) =>
        All.FirstOrDefault(m => Same(m.Name, name.Trim()))
        ?? throw new ArgumentException($"Unknown intervention method '{name}'. Known methods: {string.Join(", ", All.Select(m => m.Name))}.");

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
