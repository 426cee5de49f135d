using ActScale.Objective;
using ActScale.Training;

namespace ActScale.Tests.Objective;

/// <summary>The loss weights travel as one record whose values are always named.</summary>
public class LossSettingsTests
{
    [Fact]
    public void NoConstructorTakesTheWeightsByPosition()
    {
        // λ_F and λ_M are both doubles: only a constructor without double parameters keeps a swap from compiling.
        foreach (var type in new[] { typeof(LossSettings), typeof(TrainingOptions) })
            Assert.All(type.GetConstructors(), c => Assert.DoesNotContain(c.GetParameters(), p => p.ParameterType == typeof(double)));
    }

    [Theory]
    [InlineData(-1.0, 0.0, "LambdaF must be ≥ 0")]
    [InlineData(0.0, double.NaN, "LambdaM must be a finite number ≥ 0")]
    public void NegativeOrMissingWeightsAreRefusedByName(double lambdaF, double lambdaM, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new LossSettings { LambdaF = lambdaF, LambdaM = lambdaM }.Check());
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TheLearningRateFollowsTheMethodUntilSet()
    {
        var options = new TrainingOptions();
        Assert.Equal(1e-2, options.LearningRate);
        Assert.Equal(1e-3, (options with { Method = ActScale.Interventions.InterventionMethod.DynScalar }).LearningRate);
        Assert.Equal(0.5, (options with { LearningRate = 0.5, Method = ActScale.Interventions.InterventionMethod.DynScalar }).LearningRate);
        Assert.Throws<ArgumentException>(() => (options with { LearningRate = 0 }).Check());
    }
}
