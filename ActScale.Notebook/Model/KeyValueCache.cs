using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// The keys and values of every token a batch has seen, per layer, so that generation feeds only the new tokens
/// through the model. Rows of different lengths are left-padded: a mask marks the real tokens, each row counts its
/// positions from its own first real token, and no real token attends to padding. Pass one cache to consecutive
/// <see cref="TransformerModel.Logits(Tensor, Hooks.HookSet?, KeyValueCache?)"/> calls; it owns its tensors.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly Tensor?[] _keys, _values;
    private Tensor? _realTokens;   // [batch, seen] bool: false where a row is padded

    public KeyValueCache(int layerCount) => (_keys, _values) = (new Tensor?[layerCount], new Tensor?[layerCount]);

    /// <summary>Tokens seen so far, padding included.</summary>
    public long Length => _realTokens?.shape[1] ?? 0;

    /// <summary>Per-row positions [batch, new] of the tokens being added (set by <see cref="Begin"/>).</summary>
    public Tensor? Positions { get; private set; }

    /// <summary>Which keys each new query may read, [batch, 1, new, seen + new] (set by <see cref="Begin"/>).</summary>
    public Tensor? AttentionMask { get; private set; }

    /// <summary>Starts a forward pass over new tokens, <paramref name="real"/> [batch, new] bool (false for padding).</summary>
    internal void Begin(Tensor real)
    {
        if (_realTokens is not null && _realTokens.shape[0] != real.shape[0])
            throw new ArgumentException($"The cache holds {_realTokens.shape[0]} rows but {real.shape[0]} were fed; use one cache per batch.");
        using var scope = NewDisposeScope();
        long past = Length, added = real.shape[1];
        var seenBefore = _realTokens is null ? zeros([real.shape[0], 1], ScalarType.Int64, real.device) : _realTokens.sum([1L], keepdim: true, type: ScalarType.Int64);
        // A padding slot gets the position of the next real token; it is never read, so any valid index will do.
        var positions = (seenBefore + real.to_type(ScalarType.Int64).cumsum(1) - 1).clamp_min(0);
        var allReal = _realTokens is null ? real : cat([_realTokens, real], 1);
        var queryAt = arange(past, past + added, device: real.device).unsqueeze(1);
        var keyAt = arange(past + added, device: real.device).unsqueeze(0);
        // Causal, and only real keys; each query may always read itself so a padding row never softmaxes over nothing.
        var mask = keyAt.le(queryAt).unsqueeze(0).logical_and(allReal.unsqueeze(1).logical_or(keyAt.eq(queryAt).unsqueeze(0)));
        Replace(Positions, p => Positions = p, positions);
        Replace(AttentionMask, m => AttentionMask = m, mask.unsqueeze(1));
        Replace(_realTokens, r => _realTokens = r, allReal.clone());
    }

    /// <summary>The layer's keys and values so far, <paramref name="key"/> and <paramref name="value"/> [b, kvHeads, new, hd] appended; they stay in the caller's scope.</summary>
    internal (Tensor Key, Tensor Value) Extend(int layer, Tensor key, Tensor value)
    {
        var allKeys = _keys[layer] is Tensor k ? cat([k, key], 2) : key;
        var allValues = _values[layer] is Tensor v ? cat([v, value], 2) : value;
        Replace(_keys[layer], t => _keys[layer] = t, allKeys.detach());
        Replace(_values[layer], t => _values[layer] = t, allValues.detach());
        return (allKeys, allValues);
    }

    private static void Replace(Tensor? old, Action<Tensor> store, Tensor fresh)
    {
        store(fresh.DetachFromDisposeScope());
        old?.Dispose();
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values).Append(_realTokens).Append(Positions).Append(AttentionMask)) t?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
        _realTokens = Positions = AttentionMask = null;
    }
}
