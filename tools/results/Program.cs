using System.Diagnostics;
using System.Globalization;
using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Model;
using ActScale.Results;
using ActScale.Tasks;
using ActScale.Training;

// Regenerates docs/results-default-model.md (and the CSVs notebooks/paper.dib draws) from one command: every method
// on CCC and IOI (each order) over several seeds (each seed draws its own prompts and held-out split from the generators), then
// ActivScalar's λ_M and λ_F sweeps. Nothing here is tuned on the test split: every option is the library default.
//   dotnet run -c Release --project tools/results -- [--model DIR] [--seeds N] [--steps N] [--out FILE] [--csv DIR]
var options = ResultsOptions.Parse(args);
torch_threads();
using var model = LanguageModel.Load(options.Model, "cpu");
var clock = Stopwatch.StartNew();
var runs = new List<SeedRun>();
var sweeps = new List<SweepPoint>();
// IOI in each order on its own: the two orders are two token layouts, and the methods do not fare alike on them.
foreach (var task in new[] { "ccc", "ioi-abba", "ioi-baba" })
{
    for (int seed = 0; seed < options.Seeds; seed++)
    {
        var selection = TaskSelector.Select(model, task, int.MaxValue, int.MaxValue, seed, options.Lists);
        using var comparison = MethodComparison.Run(model, selection.Examples, options.Training with { Seed = seed }, namePrefix: $"{task} seed {seed} ");
        // The effects are measured on the held-out prompts the comparison evaluated (one layout, so positions line up).
        var (prepared, _) = PreparedTask.PrepareFor(model, selection.Examples, InterventionMethod.ActivScalar);
        using (prepared)
        {
            var effects = comparison.Runs.ToDictionary(r => r.Name, r => SiteEffects.Measure(model, r, prepared.Split(PromptExample.Test)));
            runs.AddRange(comparison.Rows.Where(r => r.Split is PromptExample.Train or PromptExample.Test)
                .Select(r => new SeedRun(task, seed, selection.Note ?? "", r, effects[r.Run])));
        }
        Console.Error.WriteLine($"{task} seed {seed}: {selection.Note}; {clock.Elapsed.TotalSeconds:F0}s");
    }
    sweeps.AddRange(Sweeps.Run(model, task, options, line => Console.Error.WriteLine($"{task} {line}; {clock.Elapsed.TotalSeconds:F0}s")));
}
ResultsDocument.Write(options, model, runs, sweeps, clock.Elapsed);
Console.Error.WriteLine($"wrote {options.Out} and {options.CsvFolder} in {clock.Elapsed.TotalMinutes:F1} min");

// One torch thread: the machine is shared, and results must not depend on the thread count.
static void torch_threads() => TorchSharp.torch.set_num_threads(1);
