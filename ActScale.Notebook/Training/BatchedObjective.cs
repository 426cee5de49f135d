using ActScale.Model;
using ActScale.Hooks;
using ActScale.Objective;
using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>
/// <see cref="ObjectiveFunction"/> for K settings in one forward pass: setting k's rows, run at β = +1 and β = −1, form the
/// k-th block of the doubled batch. Every row's logit difference and faithfulness term come from
/// <see cref="ObjectiveFunction.RowTerms"/> (the last-position forward, the split's shared clean reference), and each
/// setting reduces its own block with its own loss weights, so the sum of the K losses has, for each setting, the
/// gradient that setting's own training would have.
/// </summary>
internal static class BatchedObjective
{
    /// <param name="scheduleRows">Each distinct minibatch schedule's rows of this step ([rows] int64 each): settings with one seed share one.</param>
    /// <param name="scheduleOf">For each setting, the index of the schedule in <paramref name="scheduleRows"/> it draws from.</param>
    /// <param name="reference">The split's clean reference, shared by every setting.</param>
    /// <returns>Four [K] tensors (loss, L_E, L_F, ℓ1 raw) that the caller's dispose scope owns.</returns>
    public static (Tensor Loss, Tensor Effectiveness, Tensor Faithfulness, Tensor L1) Compute(TransformerModel model, SettingBatch batch,
        PreparedSplit split, IReadOnlyList<Tensor> scheduleRows, IReadOnlyList<int> scheduleOf, SplitReference reference,
        IReadOnlyList<LossSettings> settings)
    {
        int k = batch.Count;
        long n = scheduleRows[0].shape[0];
        var device = scheduleRows[0].device;
        // Positions in the schedules' rows laid end to end: block k is setting k's schedule at β = +1, then at β = −1. The
        // clean reference is looked up once per schedule, so without a cached split each schedule's clean forward runs once.
        var scheduled = cat(scheduleRows.ToArray());
        var blocks = stack(scheduleOf.Select(g => arange(g * n, (g + 1) * n, dtype: ScalarType.Int64, device: device))); // [K, n]
        var local = cat([blocks, blocks], 1).reshape(-1);
        var doubled = scheduled.index_select(0, local);
        using var scheduledClean = reference.Rows(scheduled);
        using var clean = scheduledClean.Rows(local);
        var betaBlock = cat([ones(n, device: device), -ones(n, device: device)]);

        var hooks = new HookSet();
        using var attached = batch.Attach(hooks, betaBlock.repeat(k).view(-1, 1, 1));
        var (correct, wrong) = (split.Correct.index_select(0, doubled), split.Wrong.index_select(0, doubled));
        var hidden = model.LastHidden(split.Ids.index_select(0, doubled), split.LastIndex.index_select(0, doubled), hooks);
        var (logitDifference, faithfulnessPerRow) = ObjectiveFunction.RowTerms(model, hidden, correct, wrong, clean);
        var effectiveness = stack(Enumerable.Range(0, k).Select(s =>
            Losses.Effectiveness(logitDifference.narrow(0, s * 2 * n, 2 * n), betaBlock, settings[s].Margin)));
        var faithfulness = faithfulnessPerRow.view(k, 2 * n).mean([1]);
        long trained = batch.Method.TrainedParameterCount(batch.Layout);
        var l1 = stack(Enumerable.Range(0, k).Select(s => Losses.Minimality(batch.Parameters[s], settings[s].L1, trained)));
        var lambdaF = tensor(settings.Select(s => (float)s.LambdaF).ToArray(), device: device);
        var lambdaM = tensor(settings.Select(s => (float)s.LambdaM).ToArray(), device: device);
        var loss = effectiveness + lambdaF * faithfulness + lambdaM * l1;
        return (loss, effectiveness, faithfulness, l1);
    }
}
