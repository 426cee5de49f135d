using TorchSharp;
using static TorchSharp.torch;

namespace ActScale.Hooks;

/// <summary>
/// Interventions and captures for one forward pass. An intervention receives the [batch, position, d_model]
/// activation of its site and returns the replacement; several on one site compose in the order they were added.
/// A capture keeps the (possibly intervened) activation; captured tensors are detached from the caller's
/// dispose scope so they outlive it, and the caller owns them.
/// </summary>
public sealed class HookSet
{
    private readonly Dictionary<Site, List<Func<Tensor, Tensor>>> _interventions = new();
    private readonly HashSet<Site> _captureSites = new();
    private readonly Dictionary<Site, Tensor> _captured = new();

    /// <summary>Adds an intervention; disposing the handle removes it.</summary>
    public IDisposable Intervene(Site site, Func<Tensor, Tensor> replace)
    {
        if (!_interventions.TryGetValue(site, out var list)) _interventions[site] = list = new();
        list.Add(replace);
        return new Removal(() =>
        {
            list.Remove(replace);
            if (list.Count == 0) _interventions.Remove(site);
        });
    }

    public void Capture(Site site) => _captureSites.Add(site);

    public bool HasInterventions => _interventions.Count > 0;

    /// <summary>The activations captured by the last run, by site.</summary>
    public IReadOnlyDictionary<Site, Tensor> Captured => _captured;

    /// <summary>Disposes and forgets captured tensors (interventions stay).</summary>
    public void ClearCaptured()
    {
        foreach (var tensor in _captured.Values) tensor.Dispose();
        _captured.Clear();
    }

    /// <summary>Throws when a hook names a layer the model does not have, which would otherwise never run.</summary>
    internal void CheckLayers(int layerCount)
    {
        var missing = _interventions.Keys.Concat(_captureSites).Where(s => s.Layer < 0 || s.Layer >= layerCount).Distinct().OrderBy(s => s.Layer).ToArray();
        if (missing.Length > 0)
            throw new ArgumentException($"The model has no site {string.Join(", ", missing)}: its layers are 0 to {layerCount - 1}.");
    }

    /// <summary>Called by the model at each site; returns the activation to carry on with.</summary>
    internal Tensor Apply(Site site, Tensor activation)
    {
        if (_interventions.TryGetValue(site, out var list))
            foreach (var replace in list)
                activation = replace(activation);
        if (_captureSites.Contains(site))
        {
            if (_captured.Remove(site, out var previous)) previous.Dispose();
            _captured[site] = activation.detach().DetachFromDisposeScope();
        }
        return activation;
    }

    /// <summary>Whether the last run's activation of <paramref name="site"/> is kept.</summary>
    internal bool Captures(Site site) => _captureSites.Contains(site);

    /// <summary>
    /// <see cref="Apply"/> for an activation computed only at each row's last position, <paramref name="last"/> [batch, 1, width]
    /// at <paramref name="lastIndex"/> [batch]: the interventions see it placed in a [batch, <paramref name="length"/>, width]
    /// tensor of zeros (so positional parameters line up) and their result is read back at the last position. Exact for
    /// every intervention whose output at a position depends only on its input there (all of ActScale's). Captures of such
    /// sites need the full forward; the model uses it when any is asked for.
    /// </summary>
    internal Tensor ApplyAtLast(Site site, Tensor last, Tensor lastIndex, long length)
    {
        if (!_interventions.ContainsKey(site)) return last;
        var index = lastIndex.view(-1, 1, 1).expand(-1, 1, last.shape[2]);
        var placed = zeros(last.shape[0], length, last.shape[2], last.dtype, last.device).scatter(1, index, last);
        return Apply(site, placed).gather(1, index);
    }

    private sealed class Removal(Action remove) : IDisposable
    {
        private Action? _remove = remove;
        public void Dispose()
        {
            _remove?.Invoke();
            _remove = null;
        }
    }
}
