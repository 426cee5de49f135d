using System.Runtime.InteropServices;

namespace ActScale.Runtime;

/// <summary>
/// The device (GPU or host) had no memory for a batch. Thrown by training and evaluation in place of libtorch's
/// allocation errors, with the batch size that was too large and a smaller one to try. The model, the task and every
/// earlier run are untouched: the failed step's tensors are freed when its scope unwinds.
/// </summary>
public sealed class DeviceOutOfMemoryException(string message, int batchSize, Exception inner) : Exception(message, inner)
{
    /// <summary>The batch size that did not fit.</summary>
    public int BatchSize { get; } = batchSize;

    /// <summary>A batch size to try next (half, at least 1).</summary>
    public int SuggestedBatchSize => Math.Max(1, BatchSize / 2);
}

/// <summary>Recognises libtorch's out-of-memory failures and turns them into <see cref="DeviceOutOfMemoryException"/>.</summary>
public static class DeviceMemory
{
    // Texts libtorch puts in the errors TorchSharp raises as ExternalException: CUDA's caching allocator
    // ("CUDA out of memory. Tried to allocate ..."), the CUDA runtime ("CUDA error: out of memory"), cuBLAS
    // ("CUBLAS_STATUS_ALLOC_FAILED") and the CPU allocator ("DefaultCPUAllocator: not enough memory" /
    // "can't allocate memory").
    private static readonly string[] Markers =
    [
        "out of memory", "not enough memory", "can't allocate memory", "cannot allocate memory", "CUBLAS_STATUS_ALLOC_FAILED",
        "failed to allocate",
    ];

    /// <summary>
    /// True when <paramref name="error"/> (or an exception inside it) is an allocation failure: a managed
    /// <see cref="OutOfMemoryException"/>, or a native (libtorch) error whose text says memory ran out.
    /// </summary>
    public static bool IsOutOfMemory(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is DeviceOutOfMemoryException) return false; // already translated
            if (e is OutOfMemoryException) return true;
            if (e is ExternalException && Markers.Any(m => e.Message.Contains(m, StringComparison.OrdinalIgnoreCase))) return true;
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsOutOfMemory)) return true;
        }
        return false;
    }

    /// <summary>Runs <paramref name="work"/>; an allocation failure inside it becomes a <see cref="DeviceOutOfMemoryException"/>.</summary>
    internal static T Translate<T>(Func<T> work, string what, string device, int batchSize)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            // Let the allocator see the failed step's tensors as free before the caller retries.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            int smaller = Math.Max(1, batchSize / 2);
            var advice = batchSize > 1
                ? $"Use a smaller batch: --batch {smaller} in the notebook, BatchSize = {smaller} in code."
                : "The batch is already 1 prompt: use a smaller model, shorter prompts, or fewer site kinds.";
            throw new DeviceOutOfMemoryException(
                $"{what} ran out of memory on {device} with batches of {batchSize} prompts. {advice} " +
                $"The model and earlier runs are unchanged. (libtorch: {FirstLine(e)})", batchSize, e);
        }
    }

    private static string FirstLine(Exception e)
    {
        var text = e.Message.Trim();
        int newline = text.IndexOf('\n');
        return newline < 0 ? text : text[..newline].TrimEnd();
    }
}
