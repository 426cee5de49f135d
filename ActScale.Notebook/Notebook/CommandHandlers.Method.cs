using Microsoft.DotNet.Interactive;

namespace ActScale.Notebook;

internal sealed partial class CommandHandlers
{
    private static Task Pending(string what) => throw new UsageException($"#!actscale {what} is not available in this build yet.");
    public Task Data(ActScaleData c, KernelInvocationContext x) => Pending("data");
    public Task Train(ActScaleTrain c, KernelInvocationContext x) => Pending("train");
    public Task Heatmap(ActScaleHeatmap c, KernelInvocationContext x) => Pending("heatmap");
    public Task Compare(ActScaleCompare c, KernelInvocationContext x) => Pending("compare");
    public Task Sweep(ActScaleSweep c, KernelInvocationContext x) => Pending("sweep");
    public Task Save(ActScaleSave c, KernelInvocationContext x) => Pending("save");
    public Task Apply(ActScaleApply c, KernelInvocationContext x) => Pending("apply");
    public Task Runs(ActScaleRuns c, KernelInvocationContext x) => Pending("runs");
}
