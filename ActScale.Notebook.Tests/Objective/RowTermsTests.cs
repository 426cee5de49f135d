using ActScale.Objective;
using ActScale.Tests.Support;
using static TorchSharp.torch;

namespace ActScale.Tests.Objective;

/// <summary>
/// The faithfulness term read from hidden states (clean reference, log-sum-exp and its gradient computed outside
/// autograd) has the value and the gradient of KL over the full logits with autograd through the projection.
/// </summary>
public sealed class RowTermsTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void FaithfulnessFromHiddenStatesHasTheValueAndGradientOfTheFullKl()
    {
        var model = fixture.Model.Transformer;
        using var task = PreparedTask.Prepare(fixture.Model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        var split = task.Train;
        using var scope = NewDisposeScope();
        var rows = arange(split.Count, dtype: ScalarType.Int64);
        var (correct, wrong) = (split.Correct, split.Wrong);
        manual_seed(5);
        var clean = model.LastHidden(split.Ids, split.LastIndex).detach();
        // Intervened states: the clean ones moved, so the KL and its gradient are far from zero.
        var moved = (clean + 0.5f * randn_like(clean)).detach();

        var viaHidden = moved.clone().requires_grad_();
        using var reference = CleanReference.Of(model, split, rows, split.Count);
        var (_, perRow) = ObjectiveFunction.RowTerms(model, viaHidden, correct, wrong, reference);
        perRow.sum().backward();

        var viaLogits = moved.clone().requires_grad_();
        var cleanLogProbs = Losses.AnswerlessLogProbs(LastToken.Project(model, clean), correct, wrong);
        var full = Losses.FaithfulnessPerPrompt(cleanLogProbs, LastToken.Project(model, viaLogits), correct, wrong);
        full.sum().backward();

        Assert.True(full.min().item<float>() > 1e-3, "the states must have moved for the comparison to mean anything");
        Assert.True(allclose(perRow, full, rtol: 1e-4, atol: 1e-5), "the per-row KL values differ");
        Assert.True(allclose(viaHidden.grad!, viaLogits.grad!, rtol: 1e-4, atol: 1e-5), "the gradients with respect to the hidden states differ");
    }
}
