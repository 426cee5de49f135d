using System.Runtime.CompilerServices;

namespace ActScale.Tests.Support;

internal static class TestAssemblyInitializer
{
    /// <summary>Test classes create tensors in field initializers, before any ActScale code has run.</summary>
    [ModuleInitializer]
    internal static void PrepareTorchSharp() => ActScale.Runtime.TorchNativeLoader.EnsureLoadable();
}
