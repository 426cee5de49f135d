using ActScale.Runtime;
using TorchSharp;

namespace ActScale.Tests.Runtime;

public class TorchNativeLoaderTests
{
    private static string OriginalLibrary() =>
        Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so") is var inRuntimes && File.Exists(inRuntimes)
            ? inRuntimes
            : Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).First();

    [Fact]
    public void MarksOnlyTheGlibcxx332NeedWeak()
    {
        var bytes = File.ReadAllBytes(OriginalLibrary());
        var copy = (byte[])bytes.Clone();
        Assert.True(ElfVersionNeedPatcher.MarkVersionNeedWeak(copy, "GLIBCXX_3.4.32"));
        var changed = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] != copy[i]).ToList();
        Assert.Single(changed); // one flag byte: VER_FLG_WEAK (0x2) set on the one vernaux entry
        Assert.Equal(bytes[changed[0]] | 0x2, copy[changed[0]]);
        Assert.False(ElfVersionNeedPatcher.MarkVersionNeedWeak(copy, "GLIBCXX_3.4.32")); // idempotent
        Assert.False(ElfVersionNeedPatcher.MarkVersionNeedWeak((byte[])bytes.Clone(), "GLIBCXX_9.9.99"));
    }

    [Fact]
    public void RefusesFilesThatAreNotElf() =>
        Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.MarkVersionNeedWeak(new byte[128], "GLIBCXX_3.4.32"));

    [Fact]
    public void TorchSharpComputesAfterLoading()
    {
        TorchNativeLoader.EnsureLoadable();
        using var x = torch.ones(2, 2);
        Assert.Equal(4f, x.sum().item<float>());
        // On this project's Debian 12 machines libstdc++ is 3.4.30, so the patched copy must be in use.
        if (!ElfVersionNeedPatcher.FileMentions("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "GLIBCXX_3.4.32"))
            Assert.True(File.Exists(TorchNativeLoader.PatchedLibraryPath));
    }
}

public class ComputeDeviceTests
{
    [Fact]
    public void CpuIsExplicit() => Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve("cpu").type);

    [Fact]
    public void AutoFallsBackToCpuWithOneNotice()
    {
        var notices = new List<string>();
        var device = ComputeDevice.Resolve("auto", notices.Add);
        if (ComputeDevice.CudaAvailable())
            Assert.Equal(DeviceType.CUDA, device.type);
        else
        {
            Assert.Equal(DeviceType.CPU, device.type);
            Assert.Single(notices);
        }
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    public void CudaWithoutAGpuNamesThePackageToReference(string word)
    {
        if (ComputeDevice.CudaAvailable()) return; // meaningful only where CUDA is absent (CI)
        var error = Assert.Throws<InvalidOperationException>(() => ComputeDevice.Resolve(word));
        Assert.Contains("TorchSharp-cuda-linux", error.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    public void UnknownDeviceWordsAreRejected(string word) =>
        Assert.Contains("auto, cpu, cuda or cuda:N", Assert.Throws<ArgumentException>(() => ComputeDevice.Resolve(word)).Message);

    [Fact]
    public void HalfPrecisionIsCudaOnly() =>
        Assert.Contains("CUDA only", Assert.Throws<ArgumentException>(() => ComputeDevice.ResolveDType("bfloat16", torch.CPU)).Message);

    [Fact]
    public void Float32IsTheDefault() => Assert.Equal(torch.ScalarType.Float32, ComputeDevice.ResolveDType(null, torch.CPU));
}
