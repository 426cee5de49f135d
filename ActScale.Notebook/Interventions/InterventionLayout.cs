using ActScale.Hooks;
using ActScale.Model;

namespace ActScale.Interventions;

/// <summary>
/// Where an intervention acts: the site kinds, on every one of <see cref="LayerCount"/> layers, for activations of
/// <see cref="Width"/>; <see cref="PromptLength"/> is the token count the positional methods are tied to (null otherwise);
/// <see cref="HeadCount"/> is how many equal slices a site's width splits into (the attention heads of <c>attn_head</c>,
/// 1 for every other kind), so the scalar methods can keep one scalar per head.
/// </summary>
public sealed record InterventionLayout(IReadOnlyList<SiteKind> SiteKinds, int LayerCount, int Width, int? PromptLength, int HeadCount = 1)
{
    /// <summary>
    /// The layout of <paramref name="kinds"/> on a model: <c>attn_head</c> is heads × head width wide (not the model width for
    /// models with an explicit head width) and split per head; the other kinds are the model width.
    /// </summary>
    public static InterventionLayout For(IReadOnlyList<SiteKind> kinds, ModelConfig config, int? promptLength) =>
        kinds.Contains(SiteKind.AttnHead)
            ? new(kinds, config.LayerCount, config.HeadCount * config.HeadDim, promptLength, config.HeadCount)
            : new(kinds, config.LayerCount, config.Width, promptLength);

    /// <summary>Throws when the site kinds are empty or repeated, or mix per-head and whole-vector sites (the parameter tensor has one slice per kind).</summary>
    internal void Check()
    {
        if (SiteKinds.Count == 0) throw new ArgumentException("Choose at least one site kind (e.g. attn_out, mlp_out).");
        if (SiteKinds.Distinct().Count() != SiteKinds.Count) throw new ArgumentException("Each site kind may be listed once.");
        if (SiteKinds.Contains(SiteKind.AttnHead) && SiteKinds.Count > 1)
            throw new ArgumentException("attn_head has its own width and one slice per head, so it cannot share a run with other site kinds: train --sites attn_head on its own.");
        if (HeadCount < 1 || Width % HeadCount != 0)
            throw new ArgumentException($"The site width {Width} must split into {HeadCount} equal heads.");
    }
}
