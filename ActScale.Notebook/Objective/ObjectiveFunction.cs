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
        var logits = model.Unembed(hidden).to_type(ScalarType.Float32);
        var hidden32 = hidden.to_type(ScalarType.Float32);
        // LD from the hidden state: the logits' answer entries are masked in place by the faithfulness term.
        var logitDifference = (hidden32 * (model.UnembeddingRows(correct) - model.UnembeddingRows(wrong))).sum(1);
        var effectiveness = Losses.Effectiveness(logitDifference, beta, settings.Margin);
        using var doubled = clean.Doubled();
        var faithfulness = Losses.FaithfulnessFromHidden(doubled, hidden32, logits, correct, wrong).mean();
        var l1 = Losses.Minimality(intervention.Parameters, settings.L1);
        var loss = effectiveness + settings.LambdaF * faithfulness + settings.LambdaM * l1;
        return (loss, effectiveness, faithfulness, l1);
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
