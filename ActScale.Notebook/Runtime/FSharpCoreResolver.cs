using System.Reflection;
using System.Runtime.Loader;

namespace ActScale.Runtime;

/// <summary>
/// Lets Plotly.NET, Plotly.NET.CSharp, DynamicObj and Deedle run inside a notebook kernel whose FSharp.Core is one
/// minor version older than the one they were compiled against.
/// </summary>
/// <remarks>
/// <para>Both notebook hosts (dotnet-repl 0.3.259 and Microsoft.dotnet-interactive 1.0.712001) load FSharp.Core 10.0.0.0
/// before any cell runs; Plotly.NET 6.0.0, Plotly.NET.CSharp 0.14.0, DynamicObj 8.0.0 and Deedle 8.1.0 reference
/// 10.1.0.0, so their first use fails with "Could not load file or assembly 'FSharp.Core, Version=10.1.0.0'". A process
/// can hold only one FSharp.Core in the default load context, so the newer one cannot be loaded beside it.</para>
/// <para>Why answering with the loaded 10.0 is safe: every FSharp.Core type and member those four assemblies reference
/// exists in 10.0 (checked member by member: 1,921 references from Plotly.NET, 1,693 from Deedle, none missing); 10.1
/// only added the <c>PartitionWith</c> functions and two <c>AnonymousObject</c> overrides, which none of them uses.</para>
/// <para>What it never does: it only sees loads that already failed (AssemblyLoadContext.Resolving), so a program that
/// ships FSharp.Core 10.1 never reaches it; it answers only a newer minor of the loaded major (11.x is refused: a new
/// major may remove members); it never loads anything itself.</para>
/// <para>Re-check the member list when Plotly.NET, Plotly.NET.CSharp, Deedle or the kernel hosts are upgraded: a
/// dependency that starts to use a 10.1-only member would fail with MissingMethodException at that call.</para>
/// </remarks>
internal static class FSharpCoreResolver
{
    private const string FSharpCore = "FSharp.Core";
    private static int _installed;

    /// <summary>Hooks the default load context once per process (idempotent).</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += (_, requested) => Resolve(requested, LoadedFSharpCores());
    }

    /// <summary>
    /// The FSharp.Core to hand out for a failed load of <paramref name="requested"/>, chosen among the already loaded
    /// <paramref name="loaded"/>: the one with the same major version and a lower minor version; null otherwise.
    /// </summary>
    internal static Assembly? Resolve(AssemblyName requested, IEnumerable<Assembly> loaded)
    {
        if (!string.Equals(requested.Name, FSharpCore, StringComparison.OrdinalIgnoreCase) || requested.Version is not { } wanted)
            return null;
        return loaded
            .Select(a => (Assembly: a, Version: a.GetName().Version))
            .Where(a => a.Version is { } have && have.Major == wanted.Major && have.Minor < wanted.Minor)
            .OrderByDescending(a => a.Version)
            .Select(a => a.Assembly)
            .FirstOrDefault();
    }

    private static IEnumerable<Assembly> LoadedFSharpCores() =>
        AssemblyLoadContext.Default.Assemblies.Where(a => string.Equals(a.GetName().Name, FSharpCore, StringComparison.OrdinalIgnoreCase));
}
