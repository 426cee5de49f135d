using System.Runtime.CompilerServices;

namespace ActScale.Runtime;

internal static class NativeLoaderInitializer
{
    /// <summary>
    /// TorchSharp's static constructor runs once per process and a failure there is permanent, so the native
    /// library must be made loadable before any TorchSharp type is touched: do it as soon as ActScale is used.
    /// </summary>
#pragma warning disable CA2255 // a library initializer is the point: it must run before the first tensor
    [ModuleInitializer]
    internal static void PrepareTorchSharp()
    {
        FSharpCoreResolver.Install();
        TorchNativeLoader.EnsureLoadable();
    }
#pragma warning restore CA2255
}
