using ActScale.Hooks;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Localization;

// Over 200 lines: the three patching directions share one site loop and one map layout; split apart they would repeat it.

/// <summary>
/// Which way activations move. <see cref="CleanIntoCorrupt"/>: each site's clean activation into the corrupted run; the map
/// is the share of the clean−corrupt logit-difference gap it restores. <see cref="CorruptIntoClean"/>: the corrupted activation
/// into the clean run; the map is the share of the gap it destroys. <see cref="Attribution"/>: the first-order estimate of
/// clean into corrupt, (h_clean − h_corrupt) · ∂LD/∂h at the corrupted run, from one forward and one backward pass.
/// </summary>
public enum PatchDirection { CleanIntoCorrupt, CorruptIntoClean, Attribution }

/// <summary>
/// A patching map over the same sites as an ActivScalar run: [site kind, layer, position], mean over prompts of the
/// recovered fraction of LD_clean − LD_corrupt, with the means of both logit differences.
/// </summary>
public sealed record PatchingMap(string Name, PatchDirection Direction, IReadOnlyList<SiteKind> SiteKinds, string[] TokenLabels, double[,,] Recovered,
    double CleanLogitDifference, double CorruptLogitDifference, int Prompts)
{
    /// <summary>Drawn like the ActivScalar heatmap: rows "L{layer} {site}" layer-major, columns the prompt's tokens, 0 = no effect.</summary>
    public HeatmapView Heatmap()
    {
        int sites = Recovered.GetLength(0), layers = Recovered.GetLength(1), positions = Recovered.GetLength(2);
        var values = new double[layers * sites, positions];
        var rows = new string[layers * sites];
        for (int l = 0; l < layers; l++)
            for (int s = 0; s < sites; s++)
            {
                rows[l * sites + s] = $"L{l} {Site.KindName(SiteKinds[s])}";
                for (int p = 0; p < positions; p++) values[l * sites + s, p] = Recovered[s, l, p];
            }
        return new HeatmapView($"{Name}: {Describe(Direction)}", "recovered", values, rows, TokenLabels, 0.0, true, true, "position (token)");
    }

    internal static string Describe(PatchDirection direction) => direction switch
    {
        PatchDirection.CorruptIntoClean => "share of LD destroyed (corrupt → clean)",
        PatchDirection.Attribution => "estimated LD recovered (attribution patching)",
        _ => "share of LD recovered (clean → corrupt)",
    };
}

/// <summary>A per-head patching map [layer, head]: each head's output at every position patched at once.</summary>
public sealed record HeadPatchingMap(string Name, PatchDirection Direction, double[,] Recovered, double CleanLogitDifference, double CorruptLogitDifference, int Prompts)
{
    /// <summary>Rows the layers, columns the heads, 0 = no effect.</summary>
    public HeatmapView Heatmap()
    {
        int layers = Recovered.GetLength(0), heads = Recovered.GetLength(1);
        return new HeatmapView($"{Name}: {PatchingMap.Describe(Direction)} per head", "recovered", (double[,])Recovered.Clone(),
            Enumerable.Range(0, layers).Select(l => $"L{l}").ToArray(), Enumerable.Range(0, heads).Select(h => $"head {h}").ToArray(), 0.0, true, false, "head");
    }

    /// <summary>The (layer, head) pairs by decreasing |recovered|.</summary>
    public IReadOnlyList<(int Layer, int Head, double Recovered)> Ranked() =>
        Enumerable.Range(0, Recovered.GetLength(0)).SelectMany(l => Enumerable.Range(0, Recovered.GetLength(1)).Select(h => (l, h, Recovered[l, h])))
            .OrderByDescending(x => Math.Abs(x.Item3)).ToArray();
}

/// <summary>
/// Activation patching, the interpretability baseline the learned scalars are compared with: for every (site kind,
/// layer, position) one forward pass with that activation taken from the other run (or, for attribution patching, one
/// forward and one backward pass in all). Every prompt needs a corrupted twin with the same token count, and all
/// prompts one length, so positions line up as they do for ActivScalar.
/// </summary>
public static class ActivationPatching
{
    /// <summary>The map per (site kind, layer, position) for <paramref name="siteKinds"/> of width d_model.</summary>
    public static PatchingMap Patch(LanguageModel model, IReadOnlyList<PromptExample> examples, IReadOnlyList<SiteKind> siteKinds,
        PatchDirection direction, string name = "patch")
    {
        if (siteKinds.Count == 0) throw new ArgumentException("Give at least one site kind to patch.");
        if (siteKinds.Contains(SiteKind.AttnHead))
            throw new ArgumentException("Per-head sites are patched one head at a time over all positions: use PatchHeads (#!actscale patch --sites attn_head alone).");
        using var scope = NewDisposeScope();
        var inputs = PatchInputs.From(model, examples);
        int layers = model.Config.LayerCount, length = inputs.Length;
        var units = new List<Unit>();
        foreach (var kind in siteKinds)
            for (int l = 0; l < layers; l++)
                for (int p = 0; p < length; p++)
                {
                    var at = zeros([1, length, 1], ScalarType.Bool, model.Device);
                    at[0, p, 0] = tensor(true);
                    units.Add(new Unit(new Site(l, kind), at));
                }
        var (values, clean, corrupt) = Recover(model, inputs, units, direction);
        var recovered = new double[siteKinds.Count, layers, length];
        for (int i = 0; i < values.Length; i++) recovered[i / (layers * length), i / length % layers, i % length] = values[i];
        return new PatchingMap(name, direction, siteKinds, inputs.TokenLabels, recovered, clean, corrupt, inputs.Count);
    }

    /// <summary>The map per (layer, head): each head's output at every position patched at once.</summary>
    public static HeadPatchingMap PatchHeads(LanguageModel model, IReadOnlyList<PromptExample> examples, PatchDirection direction, string name = "heads")
    {
        using var scope = NewDisposeScope();
        var inputs = PatchInputs.From(model, examples);
        int layers = model.Config.LayerCount, heads = model.Config.HeadCount, headDim = model.Config.HeadDim;
        var units = new List<Unit>();
        for (int l = 0; l < layers; l++)
            for (int h = 0; h < heads; h++)
            {
                var at = zeros([1, 1, heads * headDim], ScalarType.Bool, model.Device);
                at[0, 0, TensorIndex.Slice(h * headDim, (h + 1) * headDim)] = tensor(true);
                units.Add(new Unit(new Site(l, SiteKind.AttnHead), at));
            }
        var (values, clean, corrupt) = Recover(model, inputs, units, direction);
        var recovered = new double[layers, heads];
        for (int i = 0; i < values.Length; i++) recovered[i / heads, i % heads] = values[i];
        return new HeadPatchingMap(name, direction, recovered, clean, corrupt, inputs.Count);
    }

    /// <summary>A patched unit: the elements of one site's activation that <see cref="Mask"/> (broadcast to [batch, position, width]) selects.</summary>
    private sealed record Unit(Site Site, Tensor Mask);

    /// <summary>The recovered (or destroyed, or estimated) share of the gap per unit, and the mean clean and corrupted LD.</summary>
    private static (double[] Values, double Clean, double Corrupt) Recover(LanguageModel model, PatchInputs inputs, IReadOnlyList<Unit> units, PatchDirection direction)
    {
        var sites = units.Select(u => u.Site).Distinct().ToArray();
        var clean = Run(model, inputs, inputs.Clean, sites);
        var corrupt = Run(model, inputs, inputs.Corrupt, sites);
        try
        {
            var gap = clean.Difference - corrupt.Difference;
            if (Math.Abs(gap) < 1e-6)
                throw new TaskDataException("The clean and corrupted prompts give the same mean logit difference, so there is nothing to recover; " +
                                            "the corrupted prompts must remove the information the answer depends on.");
            if (direction == PatchDirection.Attribution) return (Attribute(model, inputs, units, clean.Activations, gap), clean.Difference, corrupt.Difference);
            bool intoCorrupt = direction == PatchDirection.CleanIntoCorrupt;
            var (target, source) = intoCorrupt ? (inputs.Corrupt, clean.Activations) : (inputs.Clean, corrupt.Activations);
            var values = units.Select(unit =>
            {
                var hooks = new HookSet();
                var from = source[unit.Site];
                hooks.Intervene(unit.Site, h => where(unit.Mask, from.to_type(h.dtype), h));
                double patched = MeanDifference(model, inputs, target, hooks);
                return intoCorrupt ? (patched - corrupt.Difference) / gap : (clean.Difference - patched) / gap;
            }).ToArray();
            return (values, clean.Difference, corrupt.Difference);
        }
        finally
        {
            foreach (var a in clean.Activations.Values.Concat(corrupt.Activations.Values)) a.Dispose();
        }
    }

    /// <summary>Per unit Σ (h_clean − h_corrupt)·∂ mean LD/∂h over its elements and all prompts, at the corrupted run, over the gap.</summary>
    private static double[] Attribute(LanguageModel model, PatchInputs inputs, IReadOnlyList<Unit> units, IReadOnlyDictionary<Site, Tensor> clean, double gap)
    {
        var hooks = new HookSet();
        var offsets = new Dictionary<Site, Tensor>();
        foreach (var site in units.Select(u => u.Site).Distinct())
        {
            // h + δ with δ = 0: ∂LD/∂δ is the total derivative at the site, through every later site too.
            var delta = zeros_like(clean[site]).requires_grad_();
            offsets[site] = delta;
            hooks.Intervene(site, h => h + delta.to_type(h.dtype));
            hooks.Capture(site);
        }
        using var logits = LastToken.Logits(model.Transformer, inputs.Corrupt, inputs.LastIndex, hooks);
        using var difference = Losses.LogitDifference(logits, inputs.CorrectIds, inputs.WrongIds).mean();
        difference.backward();
        try
        {
            // The gradient is of the mean LD, so summing over prompts gives the estimated change of the mean.
            var products = offsets.ToDictionary(kv => kv.Key, kv => ((clean[kv.Key] - hooks.Captured[kv.Key]) * kv.Value.grad!).sum([0L], keepdim: true));
            return units.Select(u =>
            {
                using var selected = products[u.Site] * u.Mask;
                using var total = selected.sum();
                return total.item<float>() / gap;
            }).ToArray();
        }
        finally
        {
            hooks.ClearCaptured();
            foreach (var delta in offsets.Values) delta.Dispose();
        }
    }

    private static (double Difference, IReadOnlyDictionary<Site, Tensor> Activations) Run(LanguageModel model, PatchInputs inputs, Tensor ids, Site[] sites)
    {
        var hooks = new HookSet();
        foreach (var site in sites) hooks.Capture(site);
        double difference = MeanDifference(model, inputs, ids, hooks);
        return (difference, hooks.Captured.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    private static double MeanDifference(LanguageModel model, PatchInputs inputs, Tensor ids, HookSet hooks)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var logits = LastToken.Logits(model.Transformer, ids, inputs.LastIndex, hooks);
        return Losses.LogitDifference(logits, inputs.CorrectIds, inputs.WrongIds).mean().cpu().item<float>();
    }
}
