using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using TorchSharp;

namespace ActScale.Runtime;

/// <summary>
/// Makes TorchSharp's native library loadable on systems whose libstdc++ predates GCC 13 (Debian 12,
/// Ubuntu 22.04). TorchSharp 0.107.0's libLibTorchSharp.so asks for GLIBCXX_3.4.32 for a single symbol that
/// is never needed at run time; a copy of the library with that need marked weak loads and trains correctly.
/// The copy lives in the user's cache folder, so no system file and no package file is touched, and it is
/// registered for TorchSharp's P/Invokes before TorchSharp first loads its backend. Where libstdc++ is new
/// enough this does nothing.
/// </summary>
public static class TorchNativeLoader
{
    private const string MissingVersion = "GLIBCXX_3.4.32";
    private const string LibraryName = "LibTorchSharp";
    private const string LibraryFile = "libLibTorchSharp.so";

    private static readonly object Gate = new();
    private static bool _prepared;
    private static IntPtr _patchedHandle;

    /// <summary>Path of the patched copy in use, or null when the original library is used as shipped.</summary>
    public static string? PatchedLibraryPath { get; private set; }

    /// <summary>Idempotent; call before the first TorchSharp operation.</summary>
    public static void EnsureLoadable()
    {
        lock (Gate)
        {
            if (_prepared) return;
            if (OperatingSystem.IsLinux() && !LoadedLibStdCxxProvides(MissingVersion))
                LoadPatchedCopy();
            _prepared = true;
        }
    }

    private static bool LoadedLibStdCxxProvides(string version)
    {
        var path = MappedLibraryPath("libstdc++.so.6");
        if (path is null)
        {
            NativeLibrary.TryLoad("libstdc++.so.6", out _);
            path = MappedLibraryPath("libstdc++.so.6");
        }
        // Unknown libstdc++ (static or exotic runtime): leave TorchSharp's own loading alone.
        return path is null || ElfVersionNeedPatcher.FileMentions(path, version);
    }

    private static string? MappedLibraryPath(string fileName)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            // The mapped file is the versioned one (libstdc++.so.6.0.30), so match on the soname prefix.
            if (slash >= 0 && Path.GetFileName(line[slash..]).StartsWith(fileName, StringComparison.Ordinal))
                return line[slash..].Trim();
        }
        return null;
    }

    private static void LoadPatchedCopy()
    {
        var torchAssembly = typeof(torch).Assembly;
        var original = CandidateNativeDirectories(torchAssembly)
            .Select(dir => Path.Combine(dir, LibraryFile))
            .FirstOrDefault(File.Exists)
            ?? throw new DllNotFoundException(
                $"{LibraryFile} was not found next to TorchSharp ({torchAssembly.Location}) nor in the NuGet package folder. " +
                "Reference TorchSharp together with a libtorch backend package (libtorch-cpu-linux-x64 or TorchSharp-cuda-linux).");

        LoadLibTorchFor(original, torchAssembly);
        PatchedLibraryPath = WritePatchedCopy(original);
        _patchedHandle = NativeLibrary.Load(PatchedLibraryPath);

        // The P/Invoke path consults the resolver; TorchSharp's own probe (NativeLibrary.TryLoad by name) consults
        // the load context's event. Both must see the patched copy, or the original would be tried and refused.
        try { NativeLibrary.SetDllImportResolver(torchAssembly, Resolve); }
        catch (InvalidOperationException) { /* another component registered first; the event below still covers the probe */ }
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += (assembly, name) => Resolve(name, assembly, null);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? _) =>
        name is LibraryName or LibraryFile ? _patchedHandle : IntPtr.Zero;

    /// <summary>
    /// The copy cannot find libtorch through its $ORIGIN run path, so libtorch is loaded first; the copy's DT_NEEDED
    /// entries then bind by soname. Files next to TorchSharp or in the referenced libtorch package come first, by
    /// absolute path: probing by name can find a system libtorch (Debian ships 1.13 in /usr/lib) whose symbols do
    /// not match, which is what happens in a notebook kernel, where the packages stay in the NuGet cache.
    /// </summary>
    private static void LoadLibTorchFor(string original, Assembly torchAssembly)
    {
        var directories = new[] { Path.GetDirectoryName(original)! }.Concat(CandidateNativeDirectories(torchAssembly));
        foreach (var dir in directories)
        {
            var libtorch = Path.Combine(dir, "libtorch.so");
            if (File.Exists(libtorch) && NativeLibrary.TryLoad(libtorch, out _)) return;
        }
        if (NativeLibrary.TryLoad("torch", torchAssembly, DllImportSearchPath.AssemblyDirectory, out _)) return;
        foreach (var dir in NuGetLibTorchDirectories())
        {
            var libtorch = Path.Combine(dir, "libtorch.so");
            if (File.Exists(libtorch) && NativeLibrary.TryLoad(libtorch, out _)) return;
        }
        if (NativeLibrary.TryLoad("torch", torchAssembly, null, out _)) return;
        throw new DllNotFoundException(
            "libtorch.so was not found. Reference a libtorch backend package: libtorch-cpu-linux-x64 2.10.0 for CPU, " +
            "or TorchSharp-cuda-linux 0.107.0 for NVIDIA GPUs.");
    }

    /// <summary>
    /// Where the natives TorchSharp itself will bind to live, in the order it resolves them: the app's own folder and
    /// its deps.json runtime folder, the NuGet package layout (notebooks), and only then TorchSharp's fallback
    /// consolidation folder (cpu/), which may hold stale copies; taking libtorch from a different folder than
    /// TorchSharp does would load two libtorch copies into one process.
    /// </summary>
    private static IEnumerable<string> CandidateNativeDirectories(Assembly torchAssembly)
    {
        var torchDir = Path.GetDirectoryName(torchAssembly.Location)!;
        yield return AppContext.BaseDirectory;
        yield return Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        yield return torchDir;
        yield return Path.GetFullPath(Path.Combine(torchDir, "..", "..", "runtimes", "linux-x64", "native"));
        yield return Path.Combine(torchDir, "cpu");
        var version = torchAssembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];
        if (version is not null)
            yield return Path.Combine(NuGetPackagesFolder(), "torchsharp", version, "runtimes", "linux-x64", "native");
    }

    private static IEnumerable<string> NuGetLibTorchDirectories()
    {
        var root = NuGetPackagesFolder();
        if (!Directory.Exists(root)) yield break;
        // CUDA builds first only where a CUDA driver is present (they do not load without one); newest version first.
        bool driver = NativeLibrary.TryLoad("libcuda.so.1", out _);
        var packages = Directory.GetDirectories(root, "libtorch-*linux-x64*")
            .OrderBy(p => Path.GetFileName(p).Contains("cuda", StringComparison.OrdinalIgnoreCase) == driver ? 0 : 1);
        foreach (var package in packages)
        foreach (var version in Directory.GetDirectories(package).OrderByDescending(v => Path.GetFileName(v), StringComparer.Ordinal))
            yield return Path.Combine(version, "runtimes", "linux-x64", "native");
    }

    internal static string NuGetPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string WritePatchedCopy(string original)
    {
        var bytes = File.ReadAllBytes(original);
        var hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var folder = Path.Combine(CacheFolder(), "native", hash);
        var target = Path.Combine(folder, LibraryFile);
        if (File.Exists(target)) return target;

        ElfVersionNeedPatcher.MarkVersionNeedWeak(bytes, MissingVersion);
        AtomicFile.WriteAllBytes(target, bytes);
        return target;
    }

    private static string CacheFolder()
    {
        if (Environment.GetEnvironmentVariable("ACTSCALE_CACHE") is { Length: > 0 } custom) return custom;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "actscale");
    }
}
