using System.Text.Json.Nodes;
using System.Diagnostics;
using System.Runtime.InteropServices;
using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Persistence;
using ActScale.Runtime;
using ActScale.Tasks;
using ActScale.Tests.Support;
using ActScale.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace ActScale.Tests.Reliability;

/// <summary>Which errors count as running out of memory (the texts libtorch puts in TorchSharp's ExternalException).</summary>
public class DeviceMemoryTests
{
    [Theory]
    [InlineData("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.11 GiB total capacity; 70.02 GiB already allocated)")]
    [InlineData("[enforce fail at alloc_cpu.cpp:117] err == 0. DefaultCPUAllocator: not enough memory: you tried to allocate 1099511627776 bytes.")]
    [InlineData("[enforce fail at alloc_cpu.cpp:83] . DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 bytes. Error code 12 (Cannot allocate memory)")]
    [InlineData("CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported")]
    [InlineData("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`")]
    public void LibtorchAllocationFailuresAreRecognised(string text)
    {
        Assert.True(DeviceMemory.IsOutOfMemory(new ExternalException(text)));
        Assert.True(DeviceMemory.IsOutOfMemory(new InvalidOperationException("wrapped", new ExternalException(text))));
    }

    [Fact]
    public void OtherErrorsAreNotOutOfMemory()
    {
        Assert.True(DeviceMemory.IsOutOfMemory(new OutOfMemoryException()));
        Assert.False(DeviceMemory.IsOutOfMemory(new ExternalException("shape '[2, 3]' is invalid for input of size 5")));
        Assert.False(DeviceMemory.IsOutOfMemory(new InvalidOperationException("out of memory"))); // not from libtorch
    }
}

/// <summary>Out of memory, determinism across processes, and resource use over many calls, on the tiny GPT-2.</summary>
public class ReliabilityTrainingTests(TinyModelFixture fixture, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;

    private PreparedTask Task() => PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);

    [Fact]
    public void OutOfMemoryMidTrainingSuggestsASmallerBatchAndLeavesTheModelUsable()
    {
        using var task = Task();
        using (var warm = Trainer.Train(_model, task, new TrainingOptions { Steps = 2, BatchSize = 6 })) { }
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        // The failure is raised on the training thread in the middle of the loop, as libtorch raises a failed allocation.
        var failing = new ThrowingProgress(step => step == 2
            ? new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.11 GiB total capacity)") : null);
        var e = Assert.Throws<DeviceOutOfMemoryException>(() =>
            Trainer.Train(_model, task, new TrainingOptions { Steps = 10, BatchSize = 6, ReportEvery = 1 }, progress: failing));
        output.WriteLine(e.Message);
        Assert.Contains("Training ran out of memory on cpu with batches of 6 prompts", e.Message);
        Assert.Contains("--batch 3", e.Message);
        Assert.Contains("BatchSize = 3", e.Message);
        Assert.Equal(3, e.SuggestedBatchSize);
        Assert.IsType<ExternalException>(e.InnerException);
        Assert.True(DisposeScopeManager.Statistics.ThreadTotalLiveCount - before <= 0, "the failed training left tensors alive");
        // Nothing is stuck: the model is not marked busy, and training and evaluation work again.
        using var run = Trainer.Train(_model, task, new TrainingOptions { Steps = 2, BatchSize = 3 });
        Assert.NotEmpty(Evaluator.Evaluate(_model, run, task));
    }

    [Fact]
    public void SameSeedGivesBitIdenticalParametersAndMetricsInAnotherProcess()
    {
        var here = Determinism.Fingerprint(_model);
        using var folder = TinyCheckpoints.NewFolder();
        var outFile = Path.Combine(folder.Path, "fingerprint.bin");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { typeof(HelperProgram).Assembly.Location, "determinism", outFile }) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        var stdout = child.StandardOutput.ReadToEndAsync();
        Assert.True(child.WaitForExit(TimeSpan.FromMinutes(3)), "the second process did not finish");
        output.WriteLine($"second process: exit {child.ExitCode} in {clock.Elapsed.TotalSeconds:F1}s; {here.Length} bytes compared");
        Assert.True(child.ExitCode == 0, $"exit {child.ExitCode}: {stdout.Result}\n{stderr.Result}");
        var there = File.ReadAllBytes(outFile);
        Assert.True(here.Length > 1000, "the fingerprint is too small to mean anything");
        Assert.Equal(here, there);
    }

    [Fact]
    public void HundredTrainAndEvaluateCallsKeepLiveTensorsFlat()
    {
        using var task = Task();
        var methods = new InterventionMethod[] { InterventionMethod.ActivScalar, InterventionMethod.SteerVec, InterventionMethod.DynScalar };
        void Call(int i)
        {
            using var run = Trainer.Train(_model, task, new TrainingOptions { Method = methods[i % methods.Length], Steps = 2, BatchSize = 3, ReportEvery = 1 });
            Evaluator.Evaluate(_model, run, task);
        }
        for (int i = 0; i < 6; i++) Call(i); // warm-up: caches, JIT, allocator pools
        long tensorsBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        GC.Collect();
        long rssBefore = VmRssKiB();
        var clock = Stopwatch.StartNew();
        var trace = new List<string>();
        for (int i = 0; i < 100; i++)
        {
            Call(i);
            if ((i + 1) % 25 == 0) trace.Add($"{i + 1}: {VmRssKiB() / 1024.0:F1} MiB, GC heap {GC.GetTotalMemory(false) / 1048576.0:F1} MiB");
        }
        output.WriteLine("VmRSS after calls " + string.Join("; ", trace));
        GC.Collect();
        long rssAfter = VmRssKiB();
        long tensorsAfter = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        output.WriteLine($"100 train+evaluate calls in {clock.Elapsed.TotalSeconds:F1}s: live tensors {tensorsBefore} → {tensorsAfter}; " +
                         $"VmRSS {rssBefore / 1024.0:F1} MiB → {rssAfter / 1024.0:F1} MiB ({(rssAfter - rssBefore) / 1024.0:+0.0;-0.0} MiB)");
        Assert.True(tensorsAfter - tensorsBefore <= 0, $"{tensorsAfter - tensorsBefore} tensors leaked over 100 calls");
    }

    private static long VmRssKiB()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    /// <summary>Reports synchronously on the training thread and throws what <paramref name="fault"/> returns.</summary>
    private sealed class ThrowingProgress(Func<int, Exception?> fault) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (fault(value.Step) is { } e) throw e;
        }
    }
}

/// <summary>Writers go to a temporary name and rename: a failure mid-write leaves no file, or the previous one intact.</summary>
public class AtomicWriteTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;

    [Fact]
    public void RunStoreFailingMidWriteKeepsThePreviousRunAndLeavesNoTemporaryFiles()
    {
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var first = Trainer.Train(_model, task, new TrainingOptions { Steps = 2, BatchSize = 3, Seed = 1 }, name: "first");
        using var second = Trainer.Train(_model, task, new TrainingOptions { Steps = 4, BatchSize = 3, Seed = 2, LearningRate = 0.2 }, name: "second");
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "run");
        var json = RunStore.Save(first, path);
        var oldJson = File.ReadAllBytes(json);

        // The hook is static: fail only saves into this test's folder.
        ActScale.Runtime.AtomicFile.BeforeRename = temp => { if (temp.StartsWith(folder.Path, StringComparison.Ordinal)) throw new IOException("disk full (injected)"); };
        try
        {
            Assert.Contains("disk full", Assert.Throws<IOException>(() => RunStore.Save(second, path)).Message);
            Assert.Throws<IOException>(() => RunStore.Save(second, Path.Combine(folder.Path, "fresh")));
        }
        finally
        {
            ActScale.Runtime.AtomicFile.BeforeRename = null;
        }
        Assert.Equal(oldJson, File.ReadAllBytes(json));
        Assert.False(File.Exists(Path.Combine(folder.Path, "fresh.json")));
        Assert.Equal([json], Directory.GetFiles(folder.Path));
        using var loaded = RunStore.Load(json, _model);
        Assert.Equal("first", loaded.Name);
        Assert.Equal(first.Parameters.data<float>().ToArray(), loaded.Parameters.data<float>().ToArray());
    }

    [Fact]
    public void ARunWhoseParametersFileWasReplacedIsRefused()
    {
        using var task = PreparedTask.Prepare(_model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        using var a = Trainer.Train(_model, task, new TrainingOptions { Steps = 2, BatchSize = 3, Seed = 1 }, name: "a");
        using var b = Trainer.Train(_model, task, new TrainingOptions { Steps = 3, BatchSize = 3, Seed = 2, LearningRate = 0.2 }, name: "b");
        using var folder = TinyCheckpoints.NewFolder();
        var jsonA = RunStore.Save(a, Path.Combine(folder.Path, "a"));
        var jsonB = RunStore.Save(b, Path.Combine(folder.Path, "b"));
        // a's settings with b's parameters.
        var metaA = JsonNode.Parse(File.ReadAllText(jsonA))!.AsObject();
        metaA["parameters_float32_base64"] = JsonNode.Parse(File.ReadAllText(jsonB))!["parameters_float32_base64"]!.DeepClone();
        File.WriteAllText(jsonA, metaA.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => RunStore.Load(jsonA, _model));
        Assert.Contains("changed after it was saved", e.Message);
        Assert.Contains("save the run again", e.Message);
    }

    [Fact]
    public void TaskFileFailingMidWriteKeepsThePreviousFile()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "task.jsonl");
        TaskFile.Write(path, TinyModelFixture.SameLengthTask().Take(2));
        var before = File.ReadAllBytes(path);
        // The hook is static: fail only writes into this test's folder.
        ActScale.Runtime.AtomicFile.BeforeRename = temp => { if (temp.StartsWith(folder.Path, StringComparison.Ordinal)) throw new IOException("disk full (injected)"); };
        try
        {
            Assert.Throws<IOException>(() => TaskFile.Write(path, TinyModelFixture.SameLengthTask()));
        }
        finally
        {
            ActScale.Runtime.AtomicFile.BeforeRename = null;
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void EmptyTaskFileIsRefusedWithItsName()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "empty.jsonl");
        File.WriteAllText(path, "\n  \n");
        var e = Assert.Throws<TaskDataException>(() => TaskFile.Read(path));
        Assert.Contains("empty.jsonl' has no prompts", e.Message);
    }
}
