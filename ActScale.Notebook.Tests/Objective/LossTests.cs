using ActScale.Objective;
using ActScale.Tests.Support;
using static TorchSharp.torch;

namespace ActScale.Tests.Objective;

/// <summary>Each objective term on numbers small enough to compute by hand.</summary>
public class LossTests
{
    public LossTests() => ActScale.Runtime.TorchNativeLoader.EnsureLoadable();

    [Fact]
    public void LogitDifferenceIsCorrectMinusWrong()
    {
        using var logits = tensor(new float[] { 1, 5, 2, 0, -1, 4 }, [2, 3]);
        using var correct = tensor(new long[] { 1, 0 });
        using var wrong = tensor(new long[] { 2, 2 });
        using var ld = Losses.LogitDifference(logits, correct, wrong);
        Assert.Equal(new float[] { 3, -4 }, ld.data<float>().ToArray());
    }

    [Fact]
    public void HingeUsesTheSignOfBetaForBothDirections()
    {
        // β=+1, LD=2: max(0, 1−2)=0.  β=−1, LD=−0.5: max(0, 1−0.5)=0.5.  β=+1, LD=−1: 2.  β=−1, LD=3: max(0, 1+3)=4.
        using var ld = tensor(new float[] { 2, -0.5f, -1, 3 });
        using var beta = tensor(new float[] { 1, -1, 1, -1 });
        using var loss = Losses.Effectiveness(ld, beta, margin: 1.0);
        Assert.Equal((0 + 0.5 + 2 + 4) / 4.0, loss.item<float>(), 6);
        using var wide = Losses.Effectiveness(tensor(new float[] { 2 }), tensor(new float[] { 1 }), margin: 3.0);
        Assert.Equal(1.0, wide.item<float>(), 6);
    }

    [Fact]
    public void KlExcludesBothAnswersAndRenormalises()
    {
        // Answers are tokens 0 (correct) and 1 (wrong). Non-answer clean logits (0, ln 3) → p = (1/4, 3/4);
        // intervened (0, 0) → q = (1/2, 1/2). The answer logits are wildly different and must not matter.
        using var clean = tensor(new float[] { 10, -3, 0, MathF.Log(3) }, [1, 4]);
        using var intervened = tensor(new float[] { -7, 20, 0, 0 }, [1, 4]);
        using var correct = tensor(new long[] { 0 });
        using var wrong = tensor(new long[] { 1 });
        using var cleanLog = Losses.AnswerlessLogProbs(clean, correct, wrong);
        using var kl = Losses.Faithfulness(cleanLog, intervened, correct, wrong);
        double expected = 0.25 * Math.Log(0.25 / 0.5) + 0.75 * Math.Log(0.75 / 0.5);
        Assert.Equal(expected, kl.item<float>(), 5);

        using var sameLog = Losses.AnswerlessLogProbs(clean, correct, wrong);
        using var zero = Losses.Faithfulness(sameLog, tensor(new float[] { 0, 0, 5, 5 + MathF.Log(3) }, [1, 4]), correct, wrong);
        Assert.Equal(0.0, zero.item<float>(), 5);
    }

    [Fact]
    public void KlGradientIsFiniteDespiteMaskedAnswers()
    {
        using var clean = tensor(new float[] { 1, 2, 3, 4 }, [1, 4]);
        using var logits = tensor(new float[] { 4, 3, 2, 1 }, [1, 4]).requires_grad_();
        using var correct = tensor(new long[] { 0 });
        using var wrong = tensor(new long[] { 3 });
        using var cleanLog = Losses.AnswerlessLogProbs(clean, correct, wrong);
        using var kl = Losses.Faithfulness(cleanLog, logits, correct, wrong);
        kl.backward();
        var grad = logits.grad!.data<float>().ToArray();
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
        Assert.Equal(0f, grad[0]);
        Assert.Equal(0f, grad[3]);
    }

    [Fact]
    public void L1IsSummedOrAveraged()
    {
        using var theta = tensor(new float[] { 1, -2, 0.5f, 0 }, [2, 2]);
        using var sum = Losses.Minimality(theta, L1Reduction.Sum);
        using var mean = Losses.Minimality(theta, L1Reduction.Mean);
        Assert.Equal(3.5f, sum.item<float>());
        Assert.Equal(0.875f, mean.item<float>());
    }
}
