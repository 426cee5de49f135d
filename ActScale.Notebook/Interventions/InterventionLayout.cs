using ActScale.Hooks;

namespace ActScale.Interventions;

/// <summary>
/// Where an intervention acts: the site kinds, on every one of <see cref="LayerCount"/> layers, for activations of
/// <see cref="Width"/>; <see cref="PromptLength"/> is the token count the positional methods are tied to (null otherwise).
/// </summary>
public sealed record InterventionLayout(IReadOnlyList<SiteKind> SiteKinds, int LayerCount, int Width, int? PromptLength)
{
    /// <summary>Throws when the site kinds are empty or repeated (the parameter tensor has one slice per kind).</summary>
    internal void Check()
    {
        if (SiteKinds.Count == 0) throw new ArgumentException("Choose at least one site kind (e.g. attn_out, mlp_out).");
        if (SiteKinds.Distinct().Count() != SiteKinds.Count) throw new ArgumentException("Each site kind may be listed once.");
    }
}
