using ActScale.Notebook;
using ActScale.Tests.Support;
using Xunit.Abstractions;

namespace ActScale.Tests.Notebook;

/// <summary>
/// Every option that a subcommand advertises (in its declaration, hence in --help, the directive and completions) is
/// accepted, with every choice it offers: typed into a real kernel on a tiny model, the command succeeds.
/// </summary>
public sealed class EveryOptionTests(ITestOutputHelper output) : IDisposable
{
    private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();

    /// <summary>What each subcommand needs besides the option under test, so it runs quickly on the tiny model.</summary>
    private Dictionary<string, string> Base(string subcommand) => subcommand switch
    {
        "load" => new() { ["--model"] = Quoted(_folder.Path), ["--device"] = "cpu" },
        "predict" => new() { ["--prompt"] = "\"The capital of France is\"" },
        "data" => new() { ["--train"] = "8", ["--test"] = "4" },
        "train" => new() { ["--steps"] = "2" },
        "sweep" => new() { ["--values"] = "0.01,0.02", ["--steps"] = "2" },
        "save" => new() { ["--path"] = Quoted(Path.Combine(_folder.Path, "saved.json")) },
        "apply" => new() { ["--run"] = "dyn" },
        "generate" => new() { ["--run"] = "dyn", ["--max-tokens"] = "2" },
        _ => new(),
    };

    /// <summary>Values that depend on this machine rather than on the option.</summary>
    private string Example(MagicOption option) => option.Name switch
    {
        "--model" => Quoted(_folder.Path),
        "--path" => Quoted(Path.Combine(_folder.Path, "saved.json")),
        "--dir" => Quoted(EmptySweep()),
        _ => option.Example,
    };

    private static string Quoted(string path) => $"\"{path}\"";

    /// <summary>A planned sweep with no settings, for sweep-load (a real one is loaded in Cli/SweepTests).</summary>
    private string EmptySweep()
    {
        var dir = Path.Combine(_folder.Path, "sweep");
        ActScale.Persistence.SweepFolder.WritePlan(dir, []);
        return dir;
    }

    [Fact]
    public async Task Every_advertised_option_and_choice_of_every_subcommand_is_accepted()
    {
        TinyCheckpoints.WriteGpt2(_folder.Path);
        using var kernel = new NotebookKernel();
        var session = NotebookSession.For(kernel.Kernel);
        foreach (var setup in new[] { $"load --model {Quoted(_folder.Path)} --device cpu", "data --train 8 --test 4", "train --steps 2",
                                      "train --method dynscalar --steps 2 --name dyn" })
            Assert.True((await kernel.SubmitAsync("#!actscale " + setup)).Succeeded, setup);

        int tried = 0;
        foreach (var spec in CommandCatalog.All)
        {
            var lines = new List<string> { $"{spec.Name} --help" };
            foreach (var option in spec.Options)
            {
                var choices = option.Completions is { } complete && option.Name is "--method" or "--param" ? complete(session).ToArray() : [Example(option)];
                foreach (var value in choices)
                {
                    var words = Base(spec.Name);
                    words[option.Name] = value;
                    lines.Add($"{spec.Name} {string.Join(" ", words.Select(kv => $"{kv.Key} {kv.Value}"))}");
                }
            }
            foreach (var line in lines)
            {
                var result = await kernel.SubmitAsync("#!actscale " + line);
                output.WriteLine(line);
                Assert.True(result.Succeeded, $"{line}\n{result}");
                int failed = result.AllHtml.IndexOf("color:#b00", StringComparison.Ordinal); // a sweep setting that failed
                Assert.True(failed < 0, $"{line}: {(failed < 0 ? "" : result.AllHtml[failed..Math.Min(result.AllHtml.Length, failed + 400)])}");
                tried++;
            }
        }
        Assert.True(tried > 40, $"only {tried} commands were tried");
    }

    [Fact]
    public void The_directive_offers_exactly_the_declared_options()
    {
        using var kernel = new NotebookKernel();
        var directive = kernel.Kernel.KernelInfo.SupportedDirectives.OfType<Microsoft.DotNet.Interactive.Directives.KernelActionDirective>()
            .Single(d => d.Name == "#!actscale");
        foreach (var spec in CommandCatalog.All)
        {
            var registered = directive.Subcommands.Single(s => s.Name == spec.Name).Parameters.Select(p => p.Name).ToArray();
            Assert.Equal(spec.Options.Select(o => o.Name).Append("--help"), registered);
            foreach (var option in spec.Options) Assert.Contains(option.Name, spec.Usage);
        }
    }

    public void Dispose() => _folder.Dispose();
}
