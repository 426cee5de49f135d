using TorchSharp;
using Xunit;

namespace ActScale.Tests.Training;

/// <summary>The leak check the training tests share: a warm-up cycle, then two more must leave no more live tensors.</summary>
internal static class TensorLeaks
{
    public static void AssertNoneOver(Action cycle)
    {
        cycle(); // first-use allocations (caches, lazily made tensors) are not leaks
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        cycle();
        cycle();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 0, $"{after - before} tensors leaked over two cycles");
    }
}
