using ActScale.Tests.Support;
using static TorchSharp.torch;

namespace ActScale.Tests.Training;

/// <summary>
/// A test-only method whose effect grows as exp(1000·θ): after a few steps at an allowed learning rate the activations
/// overflow float32, which is how a training that diverges is produced without a learning rate the options refuse.
/// </summary>
public sealed class Exploding() : ScalingTestMethod("Exploding", "scales activations by exp(1000·θ)", "exponent")
{
    protected override Tensor Factor(Tensor theta, Tensor beta) => (beta * theta * 1000).exp();
}
