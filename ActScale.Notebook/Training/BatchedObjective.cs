using ActScale.Model;
using ActScale.Hooks;
using ActScale.Objective;
using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>
/// <see cref="ObjectiveFunction"/> for K settings in one forward pass: setting k's rows, run at β = +1 and β = −1, form the
/// k-th block of the doubled batch, and each setting's terms are computed from its block alone (with <see cref="Losses"/>'
/// functions, the clean side of the faithfulness term made once per schedule), so the sum of the K losses has, for each
/// setting, the gradient that setting's own training would have.
/// </summary>
internal static class BatchedObjective
{
    /// <summary>The largest [rows, vocabulary] float32 tensor one projection makes: glibc's largest mmap threshold.</summary>
    private const long ProjectionBytes = 32L << 20;

    /// <param name="scheduleRows">Each distinct minibatch schedule's rows of this step ([rows] int64 each): settings with one seed share one, and its clean forward.</param>
    /// <param name="scheduleOf">For each setting, the index of the schedule in <paramref name="scheduleRows"/> it draws from.</param>
    /// <returns>Four [K] tensors (loss, L_E, L_F, ℓ1 raw) that the caller's dispose scope owns.</returns>
    public static (Tensor Loss, Tensor Effectiveness, Tensor Faithfulness, Tensor L1) Compute(TransformerModel model, SettingBatch batch,
        PreparedSplit split, IReadOnlyList<Tensor> scheduleRows, IReadOnlyList<int> scheduleOf, IReadOnlyList<LossSettings> settings)
    {
        int k = batch.Count;
        long n = scheduleRows[0].shape[0];
        var rows = stack(scheduleOf.Select(g => scheduleRows[g])); // [K, n]
        var doubled = cat([rows, rows], 1).reshape(-1); // block k: setting k's rows at β = +1, then at β = −1
        var device = rows.device;
        var betaBlock = cat([ones(n, device: device), -ones(n, device: device)]);

        var hooks = new HookSet();
        using var attached = batch.Attach(hooks, betaBlock.repeat(k).view(-1, 1, 1));
        var last = LastToken.Hidden(model, split.Ids.index_select(0, doubled), split.LastIndex.index_select(0, doubled), hooks);
        // The vocabulary-wide work runs a few settings' blocks at a time, from the projection on: glibc serves allocations
        // above 32 MiB with fresh pages from the kernel every time (measured: elementwise passes 200× slower per element at
        // 8 settings of 32 prompts), and below that the projection's matrix product is still large enough to run near the
        // machine's rate (128 rows ran at twice the rate per row of 64 on the default model). split's backward joins the
        // pieces' gradients in one copy.
        int perProjection = (int)Math.Max(1, ProjectionBytes / (2 * n * model.Config.VocabularySize * sizeof(float)));
        var logits = last.split(perProjection * 2 * n).SelectMany(part => LastToken.Project(model, part).split(2 * n)).ToArray();
        var clean = scheduleRows.Select(r => CleanRun.Of(split, r)).ToArray();
        var terms = Enumerable.Range(0, k).Select(s =>
        {
            var both = doubled.narrow(0, s * 2 * n, 2 * n);
            var (correct, wrong) = (split.Correct.index_select(0, both), split.Wrong.index_select(0, both));
            return (Effectiveness: Losses.Effectiveness(Losses.LogitDifference(logits[s], correct, wrong), betaBlock, settings[s].Margin),
                Faithfulness: clean[scheduleOf[s]].Faithfulness(logits[s], correct, wrong),
                L1: Losses.Minimality(batch.Parameters[s], settings[s].L1));
        }).ToArray();
        var effectiveness = stack(terms.Select(t => t.Effectiveness));
        var faithfulness = stack(terms.Select(t => t.Faithfulness));
        var l1 = stack(terms.Select(t => t.L1));
        var lambdaF = tensor(settings.Select(s => (float)s.LambdaF).ToArray(), device: device);
        var lambdaM = tensor(settings.Select(s => (float)s.LambdaM).ToArray(), device: device);
        var loss = effectiveness + lambdaF * faithfulness + lambdaM * l1;
        return (loss, effectiveness, faithfulness, l1);
    }

    /// <summary>
    /// The clean side of <see cref="Losses.Faithfulness"/> for one schedule's rows, doubled for β = ±1 and made once for
    /// every setting that draws them: log p [2n, vocab], p, and Σ p·log p per row, so a setting's KL(p ‖ q) = Σ p·log p −
    /// Σ p·log q costs one product with its own log q.
    /// </summary>
    private sealed record CleanRun(Tensor P, Tensor PLogP)
    {
        public static CleanRun Of(PreparedSplit split, Tensor rows)
        {
            var logP = split.CleanLogProbs(rows);
            logP = cat([logP, logP]);
            var p = logP.exp();
            return new CleanRun(p, (p * logP).sum(1));
        }

        /// <summary>L_F of intervened logits [2n, vocab] over the same rows.</summary>
        public Tensor Faithfulness(Tensor logits, Tensor correct, Tensor wrong) =>
            (PLogP - (P * Losses.AnswerlessLogProbs(logits, correct, wrong)).sum(1)).mean();
    }
}
