using ActScale.Hooks;
using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>
/// Where an intervention acts: the site kinds, on every one of <see cref="LayerCount"/> layers, for activations of
/// <see cref="Width"/>; <see cref="PromptLength"/> is the token count the positional methods are tied to (null otherwise);
/// <see cref="HeadCount"/> is how many equal slices a site's width splits into (the attention heads of <c>attn_head</c>,
/// 1 for every other kind), so the scalar methods can keep one scalar per head. Positions before <see cref="FirstPosition"/>
/// are never changed, whatever the parameters hold: position 0 carries the attention sink, a shortcut rather than the
/// mechanism (docs/method.md). The parameter tensor keeps every position, so positions index it as they index prompts;
/// the positional methods' entries before <see cref="FirstPosition"/> get no gradient and stay at 0.
/// </summary>
public sealed record InterventionLayout(IReadOnlyList<SiteKind> SiteKinds, int LayerCount, int Width, int? PromptLength, int HeadCount = 1,
    int FirstPosition = 0)
{
    /// <summary>
    /// The layout of <paramref name="kinds"/> on a model: <c>attn_head</c> is heads × head width wide (not the model width for
    /// models with an explicit head width) and split per head; the other kinds are the model width.
    /// </summary>
    public static InterventionLayout For(IReadOnlyList<SiteKind> kinds, ModelConfig config, int? promptLength, int firstPosition = 0) =>
        kinds.Contains(SiteKind.AttnHead)
            ? new(kinds, config.LayerCount, config.HeadCount * config.HeadDim, promptLength, config.HeadCount, firstPosition)
            : new(kinds, config.LayerCount, config.Width, promptLength, FirstPosition: firstPosition);

    /// <summary>
    /// <paramref name="changed"/> [batch, position, width] with the positions before <see cref="FirstPosition"/> taken from
    /// <paramref name="h"/>, the activation it was computed from: bit for bit the clean values there, and no gradient
    /// reaches the parameters through them. A pass that starts past position 0 (a generated token's) must not use it.
    /// </summary>
    internal Tensor KeepLeadingPositions(Tensor h, Tensor changed)
    {
        if (FirstPosition == 0) return changed;
        using var intervened = IntervenedPositions(h.shape[1], h.device);
        return where(intervened.unsqueeze(-1), changed, h);
    }

    /// <summary>[length] booleans, true at the positions an intervention may change.</summary>
    internal Tensor IntervenedPositions(long length, Device device) => arange(length, device: device).ge(FirstPosition);

    /// <summary>Throws when the site kinds are empty or repeated, or mix per-head and whole-vector sites (the parameter tensor has one slice per kind).</summary>
    internal void Check()
    {
        if (SiteKinds.Count == 0) throw new ArgumentException("Choose at least one site kind (e.g. attn_out, mlp_out).");
        if (SiteKinds.Distinct().Count() != SiteKinds.Count) throw new ArgumentException("Each site kind may be listed once.");
        if (SiteKinds.Contains(SiteKind.AttnHead) && SiteKinds.Count > 1)
            throw new ArgumentException("attn_head has its own width and one slice per head, so it cannot share a run with other site kinds: train --sites attn_head on its own.");
        if (FirstPosition < 0)
            throw new ArgumentException($"The first intervened position must be 0 or more; got {FirstPosition}.");
        if (PromptLength is int length && FirstPosition >= length)
            throw new ArgumentException($"The first intervened position {FirstPosition} leaves nothing to intervene on in prompts of {length} tokens: choose one from 0 to {length - 1}.");
        if (HeadCount < 1 || Width % HeadCount != 0)
            throw new ArgumentException($"The site width {Width} must split into {HeadCount} equal heads.");
    }
}
