using System.Reflection;
using ActScale.Runtime;

namespace ActScale.Tests.Runtime;

public class FSharpCoreResolverTests
{
    // The test process loads the FSharp.Core the packages ask for (10.1), so a request for a later version stands in
    // for the kernel's situation.
    private static readonly Assembly Loaded = typeof(Microsoft.FSharp.Core.Unit).Assembly;
    private static readonly Version Have = Loaded.GetName().Version!;

    private static Assembly? Resolve(string name, Version version) =>
        FSharpCoreResolver.Resolve(new AssemblyName(name) { Version = version }, [Loaded]);

    [Fact]
    public void A_newer_minor_version_is_answered_with_the_loaded_assembly() =>
        Assert.Same(Loaded, Resolve("FSharp.Core", new Version(Have.Major, Have.Minor + 1, 0, 0)));

    [Fact]
    public void A_newer_major_version_is_refused() =>
        Assert.Null(Resolve("FSharp.Core", new Version(Have.Major + 1, 0, 0, 0)));

    [Fact]
    public void The_same_or_an_older_version_is_left_to_the_normal_load() =>
        Assert.Null(Resolve("FSharp.Core", new Version(Have.Major, Have.Minor, 0, 0)));

    [Fact]
    public void Other_assemblies_are_never_answered() =>
        Assert.Null(Resolve("Deedle", new Version(Have.Major, Have.Minor + 1, 0, 0)));

    [Fact]
    public void Without_a_loaded_FSharp_Core_nothing_is_answered() =>
        Assert.Null(FSharpCoreResolver.Resolve(new AssemblyName("FSharp.Core") { Version = new Version(10, 1, 0, 0) }, []));
}
