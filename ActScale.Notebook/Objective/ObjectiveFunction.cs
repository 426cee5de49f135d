using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Objective;

/// <summary>The objective's value and each of its terms (ℓ1 raw, before λ_M).</summary>
public sealed record ObjectiveTerms(double Loss, double Effectiveness, double Faithfulness, double L1);

/// <summary>
/// L(θ) = L_E(θ; m) + λ_F·L_F(θ) + λ_M·‖θ‖₁ on rows of a prepared split, each row run at β = +1 and at β = −1
/// (one doubled batch). Used by the trainer every step and by callers who want the loss of given parameters.
/// </summary>
public static class ObjectiveFunction
{
    /// <summary>
    /// The largest [rows, vocabulary] float32 tensor one projection makes: glibc's largest mmap threshold, above which every
    /// allocation is fresh pages from the kernel (measured: elementwise passes 200× slower per element at 8 settings of 32
    /// prompts). Smaller pieces ran slower: 2 MiB took 1.9× the vocabulary-side time of 32 MiB on an 8-setting sweep.
    /// </summary>
    private const long ProjectionBytes = 32L << 20;

    /// <summary>The four tensors (loss, L_E, L_F, ℓ1) for <paramref name="rows"/> of <paramref name="split"/>; the caller's dispose scope owns them.</summary>
    internal static (Tensor Loss, Tensor Effectiveness, Tensor Faithfulness, Tensor L1) Compute(TransformerModel model, Intervention intervention,
        PreparedSplit split, Tensor rows, LossSettings settings)
    {
        using var clean = CleanReference.Of(model, split, rows, (int)rows.shape[0]);
        return Compute(model, intervention, split, rows, clean, settings);
    }

    /// <summary>As above with the clean reference of <paramref name="rows"/> given (the trainer computes its split's once).</summary>
    internal static (Tensor Loss, Tensor Effectiveness, Tensor Faithfulness, Tensor L1) Compute(TransformerModel model, Intervention intervention,
        PreparedSplit split, Tensor rows, CleanReference clean, LossSettings settings)
    {
        var both = cat([rows, rows]);
        int n = (int)rows.shape[0];
        var beta = cat([ones(n, device: rows.device), -ones(n, device: rows.device)]);
        var hooks = new HookSet();
        using var attached = intervention.Attach(hooks, beta.view(-1, 1, 1));
        var correct = split.Correct.index_select(0, both);
        var wrong = split.Wrong.index_select(0, both);
        var hidden = model.LastHidden(split.Ids.index_select(0, both), split.LastIndex.index_select(0, both), hooks);
        using var doubled = clean.Doubled();
        var (logitDifference, faithfulnessPerRow) = RowTerms(model, hidden, correct, wrong, doubled);
        var effectiveness = Losses.Effectiveness(logitDifference, beta, settings.Margin);
        var faithfulness = faithfulnessPerRow.mean();
        var l1 = Losses.Minimality(intervention.Parameters, settings.L1, intervention.ParameterCount);
        var loss = effectiveness + settings.LambdaF * faithfulness + settings.LambdaM * l1;
        return (loss, effectiveness, faithfulness, l1);
    }

    /// <summary>
    /// Each row's logit difference and faithfulness term [rows] from intervened last hidden states [rows, width] and the
    /// clean reference of the same rows. LD is read from the hidden state, so only the faithfulness term projects to the vocabulary.
    /// </summary>
    public static (Tensor LogitDifference, Tensor Faithfulness) RowTerms(TransformerModel model, Tensor hidden, Tensor correct, Tensor wrong,
        CleanReference clean)
    {
        var hidden32 = hidden.to_type(ScalarType.Float32);
        var logitDifference = (hidden32 * (model.UnembeddingRows(correct) - model.UnembeddingRows(wrong))).sum(1);
        var (logSumExp, gradient) = AnswerlessLogSumExp(model, hidden, correct, wrong);
        return (logitDifference, Losses.FaithfulnessFromHidden(clean, hidden32, logSumExp, gradient));
    }

    /// <summary>
    /// log Σ_{j∉answers} exp(h·Uⱼ) [rows] and its gradient Σⱼ qⱼUⱼ [rows, width] (q the answerless softmax), without
    /// autograd and <see cref="ProjectionBytes"/> of logits at a time: each piece is projected, reduced and multiplied
    /// back by the unembedding while it is still in cache, and nothing vocabulary-sized outlives it.
    /// </summary>
    private static (Tensor LogSumExp, Tensor Gradient) AnswerlessLogSumExp(TransformerModel model, Tensor hidden, Tensor correct, Tensor wrong)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long rows = hidden.shape[0], chunk = Math.Max(1, ProjectionBytes / (model.Config.VocabularySize * sizeof(float)));
        var logSumExp = new List<Tensor>();
        var gradient = new List<Tensor>();
        for (long start = 0; start < rows; start += chunk)
        {
            using var pieceScope = NewDisposeScope();
            long count = Math.Min(chunk, rows - start);
            var logits = Losses.MaskAnswers(model.Unembed(hidden.narrow(0, start, count)).to_type(ScalarType.Float32),
                correct.narrow(0, start, count), wrong.narrow(0, start, count));
            var max = logits.amax([1], keepdim: true);
            var weights = logits.sub_(max).exp_(); // in place: the softmax's numerators
            var total = weights.sum(1, keepdim: true);
            logSumExp.Add((total.log() + max).squeeze(1).MoveToOuterDisposeScope());
            gradient.Add((model.UnembedAdjoint(weights) / total).MoveToOuterDisposeScope());
        }
        return (cat(logSumExp).MoveToOuterDisposeScope(), cat(gradient).MoveToOuterDisposeScope());
    }

    /// <summary>The objective of <paramref name="intervention"/> on a whole split, without gradients.</summary>
    public static ObjectiveTerms Evaluate(LanguageModel model, Intervention intervention, PreparedSplit split, LossSettings settings)
    {
        settings.Check();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var rows = arange(split.Count, dtype: ScalarType.Int64, device: model.Device);
        var (loss, e, f, l1) = Compute(model.Transformer, intervention, split, rows, settings);
        var v = stack([loss, e, f, l1]).cpu().data<float>().ToArray();
        return new ObjectiveTerms(v[0], v[1], v[2], v[3]);
    }
}
