using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Persistence;
using ActScale.Tests.Support;
using ActScale.Training;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActScale.Tests.Reliability;

/// <summary>
/// Two runs that differ in every part a torn save could mix: name, site order and parameter values. A loaded run
/// must be exactly one of them.
/// </summary>
public static class RunPair
{
    private static readonly (string Name, SiteKind[] Kinds, float Value)[] Runs =
    [
        ("A", [SiteKind.AttnOut, SiteKind.MlpOut], 1.5f),
        ("B", [SiteKind.MlpOut, SiteKind.AttnOut], -2.5f),
    ];

    public static InterventionRun Make(int which, string identity, int layers, int width)
    {
        var (name, kinds, value) = Runs[which];
        var options = new TrainingOptions { Method = InterventionMethod.SteerVec, SiteKinds = kinds, Steps = which + 1 };
        return new InterventionRun(name, options, identity, layers, width, 5, ["a", "b", "c", "d", "e"],
            full(InterventionMethod.SteerVec.ParameterShape(new InterventionLayout(kinds, layers, width, 5)), value));
    }

    /// <summary>Throws unless <paramref name="run"/> is run A or run B as a whole.</summary>
    public static void AssertWhole(InterventionRun run)
    {
        int which = Array.FindIndex(Runs, r => r.Name == run.Name);
        Assert.True(which >= 0, $"a run named '{run.Name}' was loaded");
        var (_, kinds, value) = Runs[which];
        Assert.Equal(kinds, run.SiteKinds);
        Assert.Equal(which + 1, run.Options.Steps);
        using var other = run.Parameters.ne(value).any();
        Assert.False(other.item<bool>(), $"run {run.Name} was loaded with another run's parameters");
    }

    /// <summary>The second process: saves A and B to one path, alternately, until it is killed.</summary>
    public static int SaveForever(string path, string identity, int layers, int width)
    {
        ActScale.Runtime.TorchNativeLoader.EnsureLoadable();
        using var a = Make(0, identity, layers, width);
        using var b = Make(1, identity, layers, width);
        for (long i = 0; ; i++)
        {
            RunStore.Save(i % 2 == 0 ? a : b, path);
            if (i == 0) Console.Out.WriteLine("saving");
        }
    }
}

/// <summary>Saving is atomic for the whole run, under a concurrent reader and under kill -9 of the saving process.</summary>
public class SavedRunAtomicityTests(TinyModelFixture fixture, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    private readonly ActScale.Model.LanguageModel _model = fixture.Model;

    private Process StartSaver(string path)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { typeof(HelperProgram).Assembly.Location, "save-loop", path, _model.Identity,
                     _model.Config.LayerCount.ToString(), _model.Config.Width.ToString() })
            start.ArgumentList.Add(a);
        var child = Process.Start(start)!;
        // The first line comes after the first complete save; without it the child failed.
        var first = child.StandardOutput.ReadLineAsync();
        if (!first.Wait(TimeSpan.FromMinutes(2)) || first.Result != "saving")
        {
            child.Kill();
            throw new InvalidOperationException($"the saving process did not start: {child.StandardError.ReadToEnd()}");
        }
        return child;
    }

    [Fact]
    public void AReaderLoadingWhileAnotherProcessSavesAlwaysGetsAWholeRun()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "run.json");
        using var saver = StartSaver(path);
        int loads = 0;
        var seen = new HashSet<string>();
        try
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(4) || seen.Count < 2 && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                using var run = RunStore.Load(path, _model);
                RunPair.AssertWhole(run);
                seen.Add(run.Name);
                loads++;
            }
        }
        finally
        {
            saver.Kill();
            saver.WaitForExit();
        }
        output.WriteLine($"{loads} loads during concurrent saves, runs seen: {string.Join(", ", seen)}");
        Assert.Equal(2, seen.Count); // the reader really raced the writer
    }

    [Fact]
    public void KillingTheSavingProcessAtRandomMomentsAlwaysLeavesAWholeRun()
    {
        const int Kills = 30, Parallel = 5;
        using var folder = TinyCheckpoints.NewFolder();
        var random = new Random(7);
        int killed = 0;
        var names = new Dictionary<string, int>();
        for (int round = 0; round < Kills / Parallel; round++)
        {
            var paths = Enumerable.Range(0, Parallel).Select(i => Path.Combine(folder.Path, $"run{i}")).ToArray();
            var savers = paths.Select(StartSaver).ToArray();
            foreach (var saver in savers)
            {
                Thread.Sleep(random.Next(0, 60));
                saver.Kill(); // SIGKILL on Unix: no finally block or flush runs in the child
                saver.WaitForExit();
                saver.Dispose();
                killed++;
            }
            foreach (var path in paths)
            {
                using var run = RunStore.Load(path, _model);
                RunPair.AssertWhole(run);
                names[run.Name] = names.GetValueOrDefault(run.Name) + 1;
            }
        }
        output.WriteLine($"{killed} kills; runs left: {string.Join(", ", names.Select(kv => $"{kv.Key} {kv.Value}"))}");
        Assert.Equal(Kills, killed);
        // Temporary files of killed saves may remain (the process had no chance to delete them); they are never loaded.
        Assert.All(Directory.GetFiles(folder.Path), f => Assert.True(f.EndsWith(".json") || f.EndsWith(".tmp"), f));
    }

    /// <summary>Writes a run in format 1 as the previous ActScale did: .safetensors beside a .json holding its hash.</summary>
    private static string WriteFormat1(InterventionRun run, string stem)
    {
        using (var cpu = run.Parameters.contiguous()) Safetensors.SaveStateDict(stem + ".safetensors", new() { ["parameters"] = cpu });
        var meta = new JsonObject
        {
            ["format_version"] = 1, ["name"] = run.Name, ["method"] = run.Method.ToString(),
            ["site_kinds"] = new JsonArray(run.SiteKinds.Select(k => (JsonNode)Site.KindName(k)).ToArray()),
            ["layer_count"] = run.LayerCount, ["width"] = run.Width, ["prompt_length"] = run.PromptLength,
            ["token_labels"] = new JsonArray(run.TokenLabels.Select(t => (JsonNode)t).ToArray()),
            ["model_identity"] = run.ModelIdentity, ["parameters_file"] = Path.GetFileName(stem) + ".safetensors",
            ["parameters_sha256"] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(stem + ".safetensors"))).ToLowerInvariant(),
            ["cancelled"] = false, ["steps_completed"] = 0, ["training_seconds"] = 0.0,
            ["options"] = new JsonObject { ["steps"] = run.Options.Steps },
        };
        File.WriteAllText(stem + ".json", meta.ToJsonString());
        return stem + ".json";
    }

    [Fact]
    public void Format1RunsStillLoadAndAMismatchedPairIsRefused()
    {
        using var folder = TinyCheckpoints.NewFolder();
        using var a = RunPair.Make(0, _model.Identity, _model.Config.LayerCount, _model.Config.Width);
        using var b = RunPair.Make(1, _model.Identity, _model.Config.LayerCount, _model.Config.Width);
        var jsonA = WriteFormat1(a, Path.Combine(folder.Path, "a"));
        WriteFormat1(b, Path.Combine(folder.Path, "b"));
        using (var loaded = RunStore.Load(jsonA, _model)) RunPair.AssertWhole(loaded);

        File.Copy(Path.Combine(folder.Path, "b.safetensors"), Path.Combine(folder.Path, "a.safetensors"), overwrite: true);
        Assert.Contains("does not match", Assert.Throws<InvalidDataException>(() => RunStore.Load(jsonA, _model)).Message);

        // Saving over a format-1 run replaces the pair by one file.
        RunStore.Save(a, jsonA);
        Assert.False(File.Exists(Path.Combine(folder.Path, "a.safetensors")));
        using (var loaded = RunStore.Load(jsonA, _model)) RunPair.AssertWhole(loaded);
    }

    [Theory]
    [InlineData("site_kinds", "[\"mlp_out\", \"attn_out\"]")]
    [InlineData("method", "\"ActivScalar\"")]
    [InlineData("parameter_shape", "[4, 2, 5, 8]")]
    [InlineData("name", "\"C\"")]
    public void EditingAnySettingOfASavedRunIsRefused(string key, string json)
    {
        using var folder = TinyCheckpoints.NewFolder();
        using var a = RunPair.Make(0, _model.Identity, _model.Config.LayerCount, _model.Config.Width);
        var path = RunStore.Save(a, Path.Combine(folder.Path, "a"));
        var meta = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        meta[key] = JsonNode.Parse(json);
        File.WriteAllText(path, meta.ToJsonString());
        Assert.Contains("changed after it was saved", Assert.Throws<InvalidDataException>(() => RunStore.Load(path, _model)).Message);
    }

    [Fact]
    public void NonFiniteParametersAreRefusedOnLoad()
    {
        using var folder = TinyCheckpoints.NewFolder();
        using var a = RunPair.Make(0, _model.Identity, _model.Config.LayerCount, _model.Config.Width);
        a.Parameters.fill_(float.NaN);
        var path = RunStore.Save(a, Path.Combine(folder.Path, "nan"));
        var error = Assert.Throws<InvalidDataException>(() => RunStore.Load(path, _model));
        Assert.Contains(path, error.Message);
        Assert.Contains("NaN", error.Message);
    }

    [Fact]
    public void AnUnknownMethodInAFormat1RunIsNamed()
    {
        using var folder = TinyCheckpoints.NewFolder();
        using var a = RunPair.Make(0, _model.Identity, _model.Config.LayerCount, _model.Config.Width);
        var json = WriteFormat1(a, Path.Combine(folder.Path, "a"));
        File.WriteAllText(json, File.ReadAllText(json).Replace("\"SteerVec\"", "\"Banana\""));
        var error = Assert.Throws<InvalidDataException>(() => RunStore.Load(json, _model));
        Assert.Contains(json, error.Message);
        Assert.Contains("'Banana'", error.Message);
        Assert.Contains("ActivScalar", error.Message);
    }

    [Fact]
    public void SavingUnderAFileSaysWhichPartIsAFile()
    {
        using var folder = TinyCheckpoints.NewFolder();
        using var a = RunPair.Make(0, _model.Identity, _model.Config.LayerCount, _model.Config.Width);
        var blocker = Path.Combine(folder.Path, "runs");
        File.WriteAllText(blocker, "not a folder");
        var error = Assert.Throws<IOException>(() => RunStore.Save(a, Path.Combine(blocker, "sub", "a.json")));
        Assert.Contains($"'{blocker}' is a file, not a folder", error.Message);
    }
}
