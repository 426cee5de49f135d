using ActScale.Model;
using ActScale.Hooks;
using ActScale.Objective;
using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>
/// <see cref="ObjectiveFunction"/> for K settings in one forward pass: setting k's rows, run at β = +1 and β = −1, form the
/// k-th block of the doubled batch, and each setting's terms are computed from its block alone with the same
/// <see cref="Losses"/> functions, so the sum of the K losses has, for each setting, the gradient that setting's own
/// training would have.
/// </summary>
internal static class BatchedObjective
{
    /// <param name="scheduleRows">Each distinct minibatch schedule's rows of this step ([rows] int64 each): settings with one seed share one, and its clean forward.</param>
    /// <param name="scheduleOf">[K] int64: which of <paramref name="scheduleRows"/> each setting draws.</param>
    /// <returns>Four [K] tensors (loss, L_E, L_F, ℓ1 raw) that the caller's dispose scope owns.</returns>
    public static (Tensor Loss, Tensor Effectiveness, Tensor Faithfulness, Tensor L1) Compute(TransformerModel model, SettingBatch batch,
        PreparedSplit split, IReadOnlyList<Tensor> scheduleRows, Tensor scheduleOf, IReadOnlyList<LossSettings> settings)
    {
        int k = batch.Count;
        var perSchedule = stack(scheduleRows); // [schedules, n]
        var rows = perSchedule.index_select(0, scheduleOf); // [K, n]
        long n = rows.shape[1];
        var doubled = cat([rows, rows], 1).reshape(-1); // block k: setting k's rows at β = +1, then at β = −1
        var device = rows.device;
        var betaBlock = cat([ones(n, device: device), -ones(n, device: device)]);
        var beta = betaBlock.repeat(k);

        var hooks = new HookSet();
        using var attached = batch.Attach(hooks, beta.view(-1, 1, 1));
        var correct = split.Correct.index_select(0, doubled);
        var wrong = split.Wrong.index_select(0, doubled);
        var logits = LastToken.Logits(model, split.Ids.index_select(0, doubled), split.LastIndex.index_select(0, doubled), hooks);

        var clean = split.CleanLogProbs(perSchedule.reshape(-1)).view(scheduleRows.Count, n, -1).index_select(0, scheduleOf);
        var faithfulness = Losses.FaithfulnessPerPrompt(cat([clean, clean], 1).flatten(0, 1), logits, correct, wrong).view(k, -1).mean([1]);
        var logitDifference = Losses.LogitDifference(logits, correct, wrong).view(k, -1);
        var effectiveness = stack(Enumerable.Range(0, k).Select(s => Losses.Effectiveness(logitDifference[s], betaBlock, settings[s].Margin)));
        var l1 = stack(Enumerable.Range(0, k).Select(s => Losses.Minimality(batch.Parameters[s], settings[s].L1)));
        var lambdaF = tensor(settings.Select(s => (float)s.LambdaF).ToArray(), device: device);
        var lambdaM = tensor(settings.Select(s => (float)s.LambdaM).ToArray(), device: device);
        var loss = effectiveness + lambdaF * faithfulness + lambdaM * l1;
        return (loss, effectiveness, faithfulness, l1);
    }
}
