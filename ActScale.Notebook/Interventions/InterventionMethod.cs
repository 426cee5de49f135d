using static TorchSharp.torch;

namespace ActScale.Interventions;

/// <summary>
/// One intervention family: the shape of its single parameter tensor (leading dimensions [site kind, layer]), how it
/// changes one site's activation at strength β, its per-site effect map and how that map is drawn. Everything else
/// (training, evaluation, saving, the notebook's --method) works from this type and <see cref="InterventionRegistry"/>,
/// so a new method is one subclass registered once. The parameters start at 0, which must be the identity.
/// </summary>
public abstract class InterventionMethod
{
    /// <summary>h̃ = h·(1 + β·α) per (site, layer, position) [paper, Eq. 5].</summary>
    public static ActivScalar ActivScalar { get; } = new();
    /// <summary>h̃ = h + β·v per (site, layer, position) [baseline].</summary>
    public static SteerVec SteerVec { get; } = new();
    /// <summary>h̃ = h·(1 + β·(w·h/‖h‖ + b)) per (site, layer) [form ours; see docs/method.md for the normalisation].</summary>
    public static DynScalar DynScalar { get; } = new();

    /// <summary>The name runs are saved under and the notebook's --method accepts (case-insensitively).</summary>
    public abstract string Name { get; }

    /// <summary>One line for help and completions.</summary>
    public abstract string Summary { get; }

    /// <summary>Whether the parameters are per token position, so they apply only to prompts of the training length.</summary>
    public abstract bool IsPositional { get; }

    /// <summary>Adam's learning rate when the options name none.</summary>
    public virtual double DefaultLearningRate => 1e-2;

    /// <summary>How <see cref="Effect"/> is drawn.</summary>
    public abstract HeatmapStyle Heatmap { get; }

    /// <summary>The parameter tensor's shape for <paramref name="layout"/>.</summary>
    public long[] ParameterShape(InterventionLayout layout)
    {
        if (IsPositional && layout.PromptLength is not > 0)
            throw new ArgumentException($"{Name} needs the prompt length (its parameters are per position).");
        return Shape(layout);
    }

    /// <summary>
    /// How many parameters training moves: every one for a method that is not positional; for a positional one those at
    /// positions <see cref="InterventionLayout.FirstPosition"/> to the prompt's end (the entries before stay 0).
    /// </summary>
    public long TrainedParameterCount(InterventionLayout layout)
    {
        long all = ParameterShape(layout).Aggregate(1L, (a, b) => a * b);
        if (!IsPositional) return all;
        int length = layout.PromptLength!.Value;
        return all / length * (length - layout.FirstPosition);
    }

    /// <summary>The shape, [site kind, layer, ...]; <see cref="ParameterShape"/> has checked the layout.</summary>
    protected abstract long[] Shape(InterventionLayout layout);

    /// <summary>
    /// The intervened activation: <paramref name="theta"/> is the parameters of one (site kind, layer),
    /// <paramref name="h"/> [batch, position, width], <paramref name="beta"/> a float32 scalar or [batch, 1, 1] per row.
    /// </summary>
    public abstract Tensor Apply(Tensor theta, Tensor h, Tensor beta);

    /// <summary>
    /// <see cref="Apply"/> for K settings trained together: <paramref name="thetas"/> [K, ...] holds each setting's parameters
    /// of one (site kind, layer), <paramref name="h"/> [K, rows, position, width] each setting's rows and <paramref name="beta"/>
    /// [K, rows, 1, 1] their β. This version applies the settings one by one, so any method works; the built-in methods
    /// override it with one broadcast operation.
    /// </summary>
    public virtual Tensor ApplyStacked(Tensor thetas, Tensor h, Tensor beta)
    {
        using var scope = NewDisposeScope();
        return stack(Enumerable.Range(0, (int)thetas.shape[0]).Select(k => Apply(thetas[k], h[k], beta[k]))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The signed effect per [site kind, layer, column]: for positional methods one column per position; its absolute
    /// value is the magnitude that counts a site as non-trivial.
    /// </summary>
    public abstract Tensor Effect(Tensor parameters);

    /// <summary>
    /// The parameters behind one cell of <see cref="Effect"/> ([site kind, layer, column] or, for non-positional methods,
    /// [site kind, layer]) as an index into <paramref name="parameterShape"/>; a shorter index covers the trailing dimensions.
    /// </summary>
    public virtual long[] ParameterIndex(long[] effectIndex, long[] parameterShape) => effectIndex;

    /// <summary>
    /// The effect measure every method shares, so methods compare on one scale: the relative change ‖h̃ − h‖₂ / ‖h‖₂ that
    /// <see cref="Apply"/> makes to each position's activation at β = +1, as [batch, position]. For the scalar methods it
    /// is |α| (1 = the reversal point, where α = −1 erases the activation); for SteerVec ‖v‖/‖h‖, which raw ‖v‖ hides when
    /// activation norms differ by orders of magnitude between positions.
    /// </summary>
    public Tensor RelativeChange(Tensor theta, Tensor h)
    {
        using var scope = NewDisposeScope();
        var clean = h.to_type(ScalarType.Float32);
        var one = ones(1, dtype: ScalarType.Float32, device: h.device);
        var changed = Apply(theta, h, one).to_type(ScalarType.Float32);
        return ((changed - clean).norm(-1) / clean.norm(-1).clamp_min(1e-12)).MoveToOuterDisposeScope();
    }

    public override string ToString() => Name;
}
