using ActScale.Cli;
using ActScale.Notebook;
using ActScale.Tests.Support;

namespace ActScale.Tests.Cli;

public sealed class GridFileTests
{
    private static IReadOnlyList<ActScale.Persistence.SweepSetting> Plan(TinyCheckpoints.TempFolder folder, string json)
    {
        var path = Path.Combine(folder.Path, "grid.json");
        File.WriteAllText(path, json);
        return GridFile.Plan(path);
    }

    [Fact]
    public void The_plan_is_every_combination_in_a_fixed_order_whatever_the_files_key_order()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var a = Plan(folder, """{"seed": [0, 1], "steps": 5, "lambda-m": [0.1, 0.01], "method": ["steervec", "activscalar"]}""");
        var b = Plan(folder, """{"method": ["steervec", "activscalar"], "lambda-m": [0.1, 0.01], "steps": 5, "seed": [0, 1]}""");
        Assert.Equal(8, a.Count);
        Assert.Equal(a.Select(s => s.Name), b.Select(s => s.Name));
        // Options vary in declaration order (method before lambda-m before seed), the last fastest; values keep the file's order.
        Assert.Equal("s0000_method=steervec_lambda-m=0.1_seed=0", a[0].Name);
        Assert.Equal("s0001_method=steervec_lambda-m=0.1_seed=1", a[1].Name);
        Assert.Equal("s0007_method=activscalar_lambda-m=0.01_seed=1", a[7].Name);
        Assert.All(a, s => Assert.Equal("5", s.Options["--steps"]));
        Assert.Equal(Enumerable.Range(0, 8), a.Select(s => s.Index));
    }

    [Fact]
    public void A_key_that_is_no_option_is_refused_with_the_known_keys()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var e = Assert.Throws<UsageException>(() => Plan(folder, """{"lambda_m": [0.1]}"""));
        Assert.Contains("'lambda_m' is not an option of actscale train", e.Message);
        Assert.Contains("lambda-m", e.Message);
    }

    [Fact]
    public void A_bad_value_fails_the_plan_with_the_options_message()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var e = Assert.Throws<UsageException>(() => Plan(folder, """{"steps": [10, "many"]}"""));
        Assert.Equal("--steps needs a whole number, not 'many'. Example: --steps 200", e.Message);
    }
}
