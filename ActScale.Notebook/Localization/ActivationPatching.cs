using ActScale.Hooks;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Localization;

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
        var what = Direction switch
        {
            PatchDirection.CorruptIntoClean => "share of LD destroyed (corrupt → clean)",
            PatchDirection.Attribution => "estimated LD recovered (attribution patching)",
            _ => "share of LD recovered (clean → corrupt)",
        };
        return new HeatmapView($"{Name}: {what}", "recovered", values, rows, TokenLabels, 0.0, true, true, "position (token)");
    }
}

/// <summary>
/// Activation patching, the interpretability baseline the learned scalars are compared with: for every (site kind,
/// layer, position) one forward pass with that activation taken from the other run (or, for attribution patching, one
/// forward and one backward pass in all). Every prompt needs a corrupted twin with the same token count, and all
/// prompts one length, so positions line up as they do for ActivScalar.
/// </summary>
public static class ActivationPatching
{
    public static PatchingMap Patch(LanguageModel model, IReadOnlyList<PromptExample> examples, IReadOnlyList<SiteKind> siteKinds,
        PatchDirection direction, string name = "patch")
    {
        if (siteKinds.Count == 0) throw new ArgumentException("Give at least one site kind to patch.");
        using var scope = NewDisposeScope();
        var inputs = PatchInputs.From(model, examples);
        int layers = model.Config.LayerCount;
        var sites = siteKinds.SelectMany(kind => Enumerable.Range(0, layers).Select(l => new Site(l, kind))).ToArray();
        var clean = Run(model, inputs, inputs.Clean, sites);
        var corrupt = Run(model, inputs, inputs.Corrupt, sites);
        var gap = clean.Difference - corrupt.Difference;
        if (Math.Abs(gap) < 1e-6)
            throw new TaskDataException("The clean and corrupted prompts give the same mean logit difference, so there is nothing to recover; " +
                                        "the corrupted prompts must remove the information the answer depends on.");
        var recovered = new double[siteKinds.Count, layers, inputs.Length];
        if (direction == PatchDirection.Attribution)
            Attribute(model, inputs, sites, clean.Activations, recovered, siteKinds.Count, gap);
        else
        {
            bool intoCorrupt = direction == PatchDirection.CleanIntoCorrupt;
            var (target, source) = intoCorrupt ? (inputs.Corrupt, clean.Activations) : (inputs.Clean, corrupt.Activations);
            for (int i = 0; i < sites.Length; i++)
                for (int p = 0; p < inputs.Length; p++)
                {
                    using var step = NewDisposeScope();
                    var hooks = new HookSet();
                    var at = zeros([1, inputs.Length, 1], ScalarType.Bool, model.Device);
                    at[0, p, 0] = tensor(true);
                    var from = source[sites[i]];
                    hooks.Intervene(sites[i], h => where(at, from.to_type(h.dtype), h));
                    double patched = MeanDifference(model, inputs, target, hooks);
                    recovered[i / layers, i % layers, p] = intoCorrupt ? (patched - corrupt.Difference) / gap : (clean.Difference - patched) / gap;
                }
        }
        foreach (var a in clean.Activations.Values.Concat(corrupt.Activations.Values)) a.Dispose();
        return new PatchingMap(name, direction, siteKinds, inputs.TokenLabels, recovered, clean.Difference, corrupt.Difference, inputs.Count);
    }

    /// <summary>Σ_width (h_clean − h_corrupt)·∂LD/∂h, averaged over prompts, per site and position, over the gap.</summary>
    private static void Attribute(LanguageModel model, PatchInputs inputs, Site[] sites, IReadOnlyDictionary<Site, Tensor> clean, double[,,] recovered,
        int siteKinds, double gap)
    {
        int layers = sites.Length / siteKinds;
        var hooks = new HookSet();
        var offsets = new Dictionary<Site, Tensor>();
        foreach (var site in sites)
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
        for (int i = 0; i < sites.Length; i++)
        {
            using var step = NewDisposeScope();
            var change = clean[sites[i]] - hooks.Captured[sites[i]];
            // The gradient is of the mean LD, so summing over prompts gives the estimated change of the mean.
            var estimate = (change * offsets[sites[i]].grad!).sum([-1L]).sum([0L]);
            var values = estimate.cpu().data<float>().ToArray();
            for (int p = 0; p < values.Length; p++) recovered[i / layers, i % layers, p] = values[p] / gap;
        }
        hooks.ClearCaptured();
        foreach (var delta in offsets.Values) delta.Dispose();
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
