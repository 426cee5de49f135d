using TorchSharp;
using static TorchSharp.torch;

namespace ActScale.Objective;

/// <summary>How the ℓ1 minimality term reduces over the parameters.</summary>
public enum L1Reduction
{
    /// <summary>‖θ‖₁ = Σ|θᵢ| (the default, the paper's norm).</summary>
    Sum,
    /// <summary>Σ|θᵢ| / number of parameters, so λ_M means the same for methods of very different size.</summary>
    Mean,
}

/// <summary>
/// The three terms of the objective as pure tensor functions (shapes in the comments), so each can be tested on
/// hand-computed numbers. All take logits at the last real position of each prompt, [batch, vocab].
/// </summary>
public static class Losses
{
    /// <summary>A finite stand-in for −∞ so masked entries give exp = 0 without NaN in gradients.</summary>
    private const double Masked = -1e9;
    /// <summary>Held, not converted per call: each implicit conversion allocates a native Scalar left to a finalizer.</summary>
    private static readonly Scalar MaskedValue = Masked.ToScalar();

    /// <summary>LD = logit(correct) − logit(wrong) per row: [B,V], [B], [B] → [B].</summary>
    public static Tensor LogitDifference(Tensor logits, Tensor correct, Tensor wrong) =>
        logits.gather(1, correct.unsqueeze(1)).squeeze(1) - logits.gather(1, wrong.unsqueeze(1)).squeeze(1);

    /// <summary>L_E = mean over rows of max(0, m − β·LD): the row's β (+1 or −1) says which answer it should prefer. [B], [B] → scalar.</summary>
    public static Tensor Effectiveness(Tensor logitDifference, Tensor beta, double margin) =>
        (margin - beta * logitDifference).relu().mean();

    /// <summary>Log-probabilities over the vocabulary without the two answer tokens, renormalised: [B,V] → [B,V] (answers ≈ −1e9), in float32 or, for float64 logits, float64.</summary>
    public static Tensor AnswerlessLogProbs(Tensor logits, Tensor correct, Tensor wrong)
    {
        using var scope = NewDisposeScope();
        var mask = zeros_like(logits, dtype: ScalarType.Bool)
            .scatter(1, correct.unsqueeze(1), ones(correct.shape[0], 1, dtype: ScalarType.Bool, device: logits.device))
            .scatter(1, wrong.unsqueeze(1), ones(wrong.shape[0], 1, dtype: ScalarType.Bool, device: logits.device));
        var wide = logits.dtype == ScalarType.Float64 ? logits : logits.to_type(ScalarType.Float32);   // float32 at least
        return wide.masked_fill(mask, Masked).log_softmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-row KL(p_clean ‖ p_intervened) over the non-answer vocabulary, each renormalised:
    /// clean log-probs from <see cref="AnswerlessLogProbs"/> [B,V], intervened logits [B,V] → [B].
    /// </summary>
    public static Tensor FaithfulnessPerPrompt(Tensor cleanAnswerlessLogProbs, Tensor intervenedLogits, Tensor correct, Tensor wrong)
    {
        using var scope = NewDisposeScope();
        var logQ = AnswerlessLogProbs(intervenedLogits, correct, wrong);
        var p = cleanAnswerlessLogProbs.exp();
        return (p * (cleanAnswerlessLogProbs - logQ)).sum(1).MoveToOuterDisposeScope();
    }

    /// <summary>Sets the answer entries of logits [B,V] to a finite −∞ in place, so the row's softmax is over the other tokens.</summary>
    public static Tensor MaskAnswers(Tensor logits, Tensor correct, Tensor wrong)
    {
        using var answers = stack([correct, wrong], 1);
        using var masked = full(answers.shape, MaskedValue, logits.dtype, logits.device);
        return logits.scatter_(1, answers, masked);
    }

    /// <summary>
    /// <see cref="FaithfulnessPerPrompt"/> without a vocabulary-sized clean distribution (see <see cref="CleanReference"/>):
    /// from the clean reference of each row, the intervened hidden state [B,D] (float32), the log-sum-exp of its answerless
    /// logits [B] and that log-sum-exp's gradient with respect to the hidden state [B,D] (Σⱼ qⱼUⱼ, q the intervened
    /// answerless distribution) → [B]. The log-sum-exp and its gradient are computed outside autograd, so no
    /// vocabulary-sized tensor is kept for the backward; the last term is zero in value and carries that gradient.
    /// </summary>
    public static Tensor FaithfulnessFromHidden(CleanReference clean, Tensor hidden, Tensor answerlessLogSumExp, Tensor logSumExpGradient)
    {
        using var scope = NewDisposeScope();
        var expectedLogit = (hidden * clean.ExpectedUnembedding).sum(1);
        var gradientCarrier = ((hidden - hidden.detach()) * logSumExpGradient).sum(1);
        return (clean.NegativeEntropy - expectedLogit + answerlessLogSumExp + gradientCarrier).MoveToOuterDisposeScope();
    }

    /// <summary>L_F = mean of <see cref="FaithfulnessPerPrompt"/>.</summary>
    public static Tensor Faithfulness(Tensor cleanAnswerlessLogProbs, Tensor intervenedLogits, Tensor correct, Tensor wrong)
    {
        using var perPrompt = FaithfulnessPerPrompt(cleanAnswerlessLogProbs, intervenedLogits, correct, wrong);
        return perPrompt.mean();
    }

    /// <summary>
    /// ‖θ‖₁ summed, or averaged over the <paramref name="trainedCount"/> entries training moves (all entries when not given;
    /// a positional method's entries before the first intervened position stay 0 and must not dilute the mean).
    /// </summary>
    public static Tensor Minimality(Tensor parameters, L1Reduction reduction, long? trainedCount = null)
    {
        using var abs = parameters.abs();
        if (reduction == L1Reduction.Sum) return abs.sum();
        return trainedCount is long n && n != parameters.numel() ? abs.sum() / n : abs.mean();
    }
}
