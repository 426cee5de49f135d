using ActScale.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ActScale.Objective;

/// <summary>
/// What the faithfulness term reads of the clean model, per prompt: with p the clean answerless distribution at the last
/// position and U the unembedding, KL(p‖q) = Σp log p − h·(Σⱼ pⱼUⱼ) + log Σ_{j∉answers} exp(h·Uⱼ) for the intervened hidden
/// state h (<see cref="Losses.FaithfulnessFromHidden"/>). So a prompt needs only its negative entropy Σp log p and its
/// expected unembedding Σⱼ pⱼUⱼ: width + 1 floats instead of a vocabulary-sized row (3 KB per prompt for GPT-2 Small
/// against 200 KB), small enough that training computes them once for its whole split instead of once per step.
/// The tensors are float32 on the model's device, not in any dispose scope, and freed with this object.
/// </summary>
public sealed class CleanReference : IDisposable
{
    /// <summary>Above this size the trainer recomputes each minibatch's reference instead of holding the split's.</summary>
    public const long MaxCachedBytes = 256L << 20;

    private CleanReference(Tensor negativeEntropy, Tensor expectedUnembedding)
    {
        NegativeEntropy = negativeEntropy.DetachFromDisposeScope();
        ExpectedUnembedding = expectedUnembedding.DetachFromDisposeScope();
    }

    /// <summary>[rows] Σp log p of each prompt's clean answerless distribution.</summary>
    public Tensor NegativeEntropy { get; }
    /// <summary>[rows, width] Σⱼ pⱼUⱼ, the clean distribution's mean unembedding vector.</summary>
    public Tensor ExpectedUnembedding { get; }

    /// <summary>Whether the reference for all of <paramref name="split"/> fits under <see cref="MaxCachedBytes"/>.</summary>
    public static bool Fits(TransformerModel model, PreparedSplit split) => split.Count * (model.Config.Width + 1L) * sizeof(float) <= MaxCachedBytes;

    /// <summary>The reference for <paramref name="rows"/> [rows] int64 of <paramref name="split"/>, run through the clean model in batches of <paramref name="batchSize"/>.</summary>
    public static CleanReference Of(TransformerModel model, PreparedSplit split, Tensor rows, int batchSize)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var entropies = new List<Tensor>();
        var expected = new List<Tensor>();
        for (long start = 0; start < rows.shape[0]; start += batchSize)
        {
            var batch = rows.narrow(0, start, Math.Min(batchSize, rows.shape[0] - start));
            // In float64: Σp log p enters the KL beside terms of the logits' size, and float32's rounding of log p (about
            // 1e-6) would stay in a KL of order 1e-2. Once per split, so the cost does not matter.
            var logits = model.Unembed(model.LastHidden(split.Ids.index_select(0, batch), split.LastIndex.index_select(0, batch))).to_type(ScalarType.Float64);
            var logP = Losses.AnswerlessLogProbs(logits, split.Correct.index_select(0, batch), split.Wrong.index_select(0, batch));
            var p = logP.exp();
            entropies.Add((p * logP).sum(1).to_type(ScalarType.Float32));
            expected.Add(model.UnembedAdjoint(p));
        }
        return new CleanReference(cat(entropies), cat(expected));
    }

    /// <summary>The reference of <paramref name="rows"/> (indices into this one), e.g. a minibatch of a cached split.</summary>
    public CleanReference Rows(Tensor rows) => new(NegativeEntropy.index_select(0, rows), ExpectedUnembedding.index_select(0, rows));

    /// <summary>The rows twice over, for a batch run at β = +1 and β = −1.</summary>
    public CleanReference Doubled() => new(cat([NegativeEntropy, NegativeEntropy]), cat([ExpectedUnembedding, ExpectedUnembedding]));

    public void Dispose()
    {
        NegativeEntropy.Dispose();
        ExpectedUnembedding.Dispose();
    }
}
