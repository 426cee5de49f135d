using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Tasks;
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
    /// <summary>The four tensors (loss, L_E, L_F, ℓ1) for <paramref name="rows"/> of <paramref name="split"/>; the caller's dispose scope owns them.</summary>
    internal static (Tensor Loss, Tensor Effectiveness, Tensor Faithfulness, Tensor L1) Compute(TransformerModel model, HookSet hooks,
        Intervention intervention, PreparedSplit split, Tensor rows, double margin, double lambdaF, double lambdaM, L1Reduction reduction)
    {
        var both = cat([rows, rows]);
        int n = (int)rows.shape[0];
        var betaVector = cat([ones(n, device: rows.device), -ones(n, device: rows.device)]);
        var previous = intervention.BetaRows;
        intervention.BetaRows = betaVector.view(-1, 1, 1);
        try
        {
            var correct = split.Correct.index_select(0, both);
            var wrong = split.Wrong.index_select(0, both);
            var logits = LastToken.Logits(model, split.Ids.index_select(0, both), split.LastIndex.index_select(0, both), hooks);
            var effectiveness = Losses.Effectiveness(Losses.LogitDifference(logits, correct, wrong), betaVector, margin);
            var faithfulness = Losses.Faithfulness(split.CleanLogProbs.index_select(0, both), logits, correct, wrong);
            var l1 = Losses.Minimality(intervention.Parameters, reduction);
            var loss = effectiveness + lambdaF * faithfulness + lambdaM * l1;
            return (loss, effectiveness, faithfulness, l1);
        }
        finally
        {
            intervention.BetaRows = previous;
        }
    }

    /// <summary>The objective of <paramref name="intervention"/> on a whole split, without gradients.</summary>
    public static ObjectiveTerms Evaluate(LanguageModel model, Intervention intervention, PreparedSplit split, double margin, double lambdaF,
        double lambdaM, L1Reduction reduction = L1Reduction.Sum)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var hooks = new HookSet();
        using var attached = intervention.Attach(hooks);
        var rows = arange(split.Count, dtype: ScalarType.Int64, device: model.Device);
        var (loss, e, f, l1) = Compute(model.Transformer, hooks, intervention, split, rows, margin, lambdaF, lambdaM, reduction);
        var v = stack([loss, e, f, l1]).cpu().data<float>().ToArray();
        return new ObjectiveTerms(v[0], v[1], v[2], v[3]);
    }
}
