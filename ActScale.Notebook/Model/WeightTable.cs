using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// The tensors of a checkpoint by name, handed out once each, checked for shape and moved straight to the
/// model's device and dtype. Every error names the file and the tensor, so a broken checkpoint is found fast.
/// </summary>
public sealed class WeightTable(IReadOnlyDictionary<string, StoredTensor> tensors, Device device, ScalarType dtype)
    : IDisposable
{
    private readonly Dictionary<string, StoredTensor> _remaining = new(tensors);

    public bool Contains(string name) => _remaining.ContainsKey(name);

    /// <summary>Names that a family may prefix (e.g. <c>transformer.</c>) are looked up with and without it.</summary>
    public string? Resolve(params string[] candidates) => candidates.FirstOrDefault(_remaining.ContainsKey);

    /// <summary>
    /// Marks a stored tensor as deliberately unread (a tied head's stored copy of the embedding, which the family
    /// ignores as Hugging Face does), so <see cref="RefuseUnused"/> does not count it.
    /// </summary>
    public void Ignore(string name)
    {
        if (_remaining.Remove(name, out var entry)) entry.Dispose();
    }

    /// <summary>Takes a tensor, checks its shape, converts it and frees the loaded copy.</summary>
    public Tensor Take(string name, params long[] shape) => Take(name, shape, transpose: false);

    /// <summary>Takes a tensor stored [in, out] (Hugging Face Conv1D) and returns it [out, in].</summary>
    public Tensor TakeTransposed(string name, long inFeatures, long outFeatures) =>
        Take(name, [inFeatures, outFeatures], transpose: true);

    private Tensor Take(string name, long[] shape, bool transpose)
    {
        if (!_remaining.Remove(name, out var entry))
            throw new InvalidDataException(
                $"The checkpoint has no tensor '{name}' (files: {string.Join(", ", tensors.Values.Select(v => Path.GetFileName(v.File)).Distinct())}). " +
                "The weights do not match config.json, or the file is incomplete.");
        if (!entry.Shape.SequenceEqual(shape))
        {
            entry.Dispose();
            throw new InvalidDataException(
                $"Tensor '{name}' in '{entry.File}' has shape [{string.Join(", ", entry.Shape)}] but config.json implies [{string.Join(", ", shape)}].");
        }
        if (!is_floating_point(entry.DType))
        {
            entry.Dispose();
            // An integer tensor converted to floats would load its bit pattern as numbers, e.g. F16 weights labelled I16.
            throw new InvalidDataException(
                $"Tensor '{name}' in '{entry.File}' is stored as {entry.DType}; model weights must be F32, F16, BF16 or F64. The header's dtype is wrong: re-save the checkpoint.");
        }
        // Read (for safetensors: now, this tensor only), convert on the way to the target and free the stored copy.
        // A tensor that must change dtype or device is read into a reused staging buffer, so loading allocates
        // nothing but the model's own tensors; one already in the target dtype on the CPU is read in place.
        using var loaded = entry.InFile && (entry.DType != dtype || device.type != TorchSharp.DeviceType.CPU)
            ? Staged(entry)
            : entry.Load();
        using var oriented = transpose ? loaded.t() : loaded.alias();
        var converted = oriented.to(dtype, device).contiguous();
        converted.requires_grad_(false);
        RefuseNonFinite(converted, name, entry.File);
        return converted.DetachFromDisposeScope();
    }

    private readonly Dictionary<ScalarType, Tensor> _staging = new();

    private Tensor Staged(StoredTensor entry)
    {
        long count = entry.ElementCount;
        if (!_staging.TryGetValue(entry.DType, out var buffer) || buffer.shape[0] < count)
        {
            buffer?.Dispose();
            _staging[entry.DType] = buffer = empty([count], entry.DType).DetachFromDisposeScope();
        }
        using var used = buffer.narrow(0, 0, count);
        entry.ReadInto(used);
        return used.view(entry.Shape);
    }

    /// <summary>One NaN or infinity in a weight makes every prediction NaN; checking costs one pass over the weights.</summary>
    private static void RefuseNonFinite(Tensor weight, string name, string file)
    {
        using var finite = isfinite(weight).all();
        if (finite.item<bool>()) return;
        weight.Dispose();
        throw new InvalidDataException(
            $"Tensor '{name}' in '{file}' holds NaN or infinite values, so the model would predict NaN. The checkpoint is damaged (or was saved from a diverged training): use another copy.");
    }

    /// <summary>
    /// Buffers Hugging Face exports beside the weights that a model rebuilds itself: causal masks and rotary
    /// frequencies. Anything else left over means config.json describes a smaller model than the checkpoint holds.
    /// </summary>
    private static readonly System.Text.RegularExpressions.Regex Rebuilt =
        new(@"(^|\.)(attn|attention)\.(bias|masked_bias)$|(^|\.)rotary_emb\.inv_freq$", System.Text.RegularExpressions.RegexOptions.Compiled);

    /// <summary>Refuses a checkpoint with weights the architecture did not take (e.g. h.4.* when n_layer is 4), naming them.</summary>
    public void RefuseUnused(string configPath)
    {
        var unused = _remaining.Keys.Where(n => !Rebuilt.IsMatch(n)).Order(StringComparer.Ordinal).ToArray();
        if (unused.Length == 0) return;
        throw new InvalidDataException(
            $"The checkpoint holds {unused.Length} tensors that '{configPath}' gives no place to: {string.Join(", ", unused.Take(6).Select(n => $"'{n}'"))}" +
            (unused.Length > 6 ? ", ..." : "") + ". config.json and the weights come from different models (e.g. n_layer smaller than the checkpoint's layers); " +
            "use the config.json shipped with these weights.");
    }

    public void Dispose()
    {
        foreach (var stored in _remaining.Values) stored.Dispose();
        foreach (var buffer in _staging.Values) buffer.Dispose();
        _staging.Clear();
        _remaining.Clear();
    }
}
