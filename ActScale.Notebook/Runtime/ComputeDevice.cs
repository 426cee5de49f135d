using TorchSharp;
using static TorchSharp.torch;

namespace ActScale.Runtime;

/// <summary>
/// Turns a user's device and dtype words into TorchSharp's, after making sure the native backend loads.
/// "auto" takes the GPU when the CUDA backend is referenced and a GPU answers, otherwise the CPU with a notice.
/// Nothing else in ActScale names a device: every tensor follows the model's.
/// </summary>
public static class ComputeDevice
{
    public const string CudaPackageHint =
        "Reference the CUDA backend in the notebook (#r \"nuget: TorchSharp-cuda-linux, 0.107.0\") on a machine with an NVIDIA GPU and driver, or use --device cpu.";

    /// <summary>Resolves "auto", "cpu", "cuda" or "cuda:N"; <paramref name="notice"/> receives one line when auto falls back to the CPU.</summary>
    public static Device Resolve(string? requested, Action<string>? notice = null)
    {
        TorchNativeLoader.EnsureLoadable();
        var word = string.IsNullOrWhiteSpace(requested) ? "auto" : requested.Trim().ToLowerInvariant();
        if (word == "auto")
        {
            if (CudaAvailable()) return new Device(DeviceType.CUDA, 0);
            notice?.Invoke("ActScale: no CUDA GPU available, running on the CPU.");
            return CPU;
        }
        if (word == "cpu") return CPU;
        if (word == "cuda" || word.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (word.Length > 4 && !int.TryParse(word[5..], out index))
                throw new ArgumentException($"'{requested}' is not a device; use auto, cpu, cuda or cuda:N.");
            if (!CudaAvailable())
                throw new InvalidOperationException($"Device '{requested}' was requested but CUDA is not available. {CudaPackageHint}");
            int count = cuda.device_count();
            if (index >= count)
                throw new ArgumentException($"Device '{requested}' does not exist: this machine has {count} CUDA device(s), numbered from 0.");
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"'{requested}' is not a device; use auto, cpu, cuda or cuda:N.");
    }

    /// <summary>float32 by default; bfloat16 and float16 only where the device computes them well (CUDA).</summary>
    public static ScalarType ResolveDType(string? requested, Device device)
    {
        var word = string.IsNullOrWhiteSpace(requested) ? "float32" : requested.Trim().ToLowerInvariant();
        var dtype = word switch
        {
            "float32" or "fp32" or "f32" => ScalarType.Float32,
            "bfloat16" or "bf16" => ScalarType.BFloat16,
            "float16" or "fp16" or "f16" or "half" => ScalarType.Float16,
            _ => throw new ArgumentException($"'{requested}' is not a dtype; use float32, bfloat16 or float16."),
        };
        if (dtype != ScalarType.Float32 && device.type != DeviceType.CUDA)
            throw new ArgumentException($"{word} is supported on CUDA only; on the CPU use float32.");
        return dtype;
    }

    private static bool? _cudaAvailable;

    /// <summary>
    /// Probes the CUDA backend only when one is referenced, so a CPU-only install never pays for (or prints)
    /// TorchSharp's failed attempt to load CUDA libraries.
    /// </summary>
    public static bool CudaAvailable()
    {
        if (_cudaAvailable is bool known) return known;
        // In a notebook the CUDA natives sit in their own NuGet packages, which TorchSharp gathers on first CUDA use.
        bool referenced = System.Runtime.InteropServices.NativeLibrary.TryLoad("torch_cuda", typeof(torch).Assembly, null, out _)
            || (Directory.Exists(TorchNativeLoader.NuGetPackagesFolder())
                && Directory.EnumerateDirectories(TorchNativeLoader.NuGetPackagesFolder(), "libtorch-cuda-*").Any());
        try
        {
            _cudaAvailable = referenced && torch.TryInitializeDeviceType(DeviceType.CUDA) && cuda.is_available();
        }
        catch (Exception)
        {
            _cudaAvailable = false;
        }
        return _cudaAvailable.Value;
    }
}
