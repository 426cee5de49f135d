using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Objective;

/// <summary>
/// Where a training reads its minibatches' <see cref="CleanReference"/>s: the whole split's, computed once at
/// construction when it <see cref="CleanReference.Fits"/>, else each minibatch's clean forward when asked. The reference
/// depends only on the prompts, so every setting of a batched training shares one.
/// </summary>
internal sealed class SplitReference : IDisposable
{
    private readonly TransformerModel _model;
    private readonly PreparedSplit _split;
    private readonly int _batchSize;
    private readonly CleanReference? _cached;

    /// <param name="batchSize">Rows per clean forward, the training's minibatch size.</param>
    public SplitReference(TransformerModel model, PreparedSplit split, int batchSize)
    {
        (_model, _split, _batchSize) = (model, split, batchSize);
        if (CleanReference.Fits(model, split))
        {
            using var all = arange(split.Count, dtype: ScalarType.Int64, device: split.Ids.device);
            _cached = CleanReference.Of(model, split, all, batchSize);
        }
    }

    /// <summary>The reference of <paramref name="rows"/> [rows] int64 of the split; the caller disposes it.</summary>
    public CleanReference Rows(Tensor rows) => _cached?.Rows(rows) ?? CleanReference.Of(_model, _split, rows, _batchSize);

    public void Dispose() => _cached?.Dispose();
}
