using System.Globalization;
using System.Text.Json.Nodes;
using ActScale.Acceptance;
using ActScale.Evaluation;
using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Model;
using ActScale.Tasks;
using static TorchSharp.torch;

// The default model's acceptance test (thresholds from issue 13). Usage: dotnet run --project tools/acceptance -c Release
// [-- [MODEL_FOLDER] [--steps N] [--lr X] [--seed S] [--split-seeds 101,202]]. Prints every measurement and exits 1 when any check
// fails. Steering runs through ActScale itself, with its default training options unless --steps / --lr are given. Besides
// the generators' split it redraws held-out countries and names with each --split-seeds seed (default 101): a model chosen
// among candidates with the default splits is then confirmed on splits that played no part in choosing it.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
Thread.CurrentThread.CurrentCulture = CultureInfo.InvariantCulture;
var repo = RepoRoot();
var lists = Path.Combine(repo, "data", "lists");
var (folderArgument, budget, splitSeeds) = SteeringBudget.Parse(args);
var folder = folderArgument ?? Path.Combine(repo, "data", "models", "actscale-capitals-ioi");
using var model = LanguageModel.Load(folder, "cpu");
set_num_threads(1); // the machine's cores are shared; one thread is also the fastest here for a model this small
var templates = TemplateSet.Read(Path.Combine(lists, "templates.json"));
var countries = WordLists.ReadCountries(Path.Combine(lists, "countries.tsv"));
var names = WordLists.ReadNames(Path.Combine(lists, "names.txt"));
var checks = new List<Check>();
// The generators' default of 8 held-out prompts per template and order leaves 16 prompts per order with held-out names
// and templates: there a model with true accuracy 0.97 fails the 0.95 check 39% of the time, and a both-β success has a
// standard error near 0.08, close to the 0.1 gap the comparison allows. 32 give 64 such prompts (and 320 with held-out
// names) per order. The generator draws test prompts between training ones, so the training prompts become other draws
// of the same templates and names.
const int HeldOutIoiPromptsPerTemplate = 32;
Console.WriteLine($"model {model.Identity}: {model.Config.LayerCount} layers x {model.Config.Width}, {model.Config.HeadCount} heads; steering {budget}");

var factTemplates = (JsonNode.Parse(File.ReadAllText(Path.Combine(lists, "templates.json")))!["fact"] as JsonArray
                     ?? throw new InvalidDataException("data/lists/templates.json lacks the \"fact\" templates.")).Select(n => (string)n!).ToArray();
using (var facts = PreparedTask.Prepare(model, AcceptanceTasks.Facts(countries, factTemplates), samePromptLength: false, requireTrain: false))
    checks.Add(Check.AtLeast("fact recall (capital is the top token)", SteeringMetrics.TopIsCorrect(LibraryAccess.Measure(model, facts.Split("facts"))), 0.99));

// The generators' split, then one split per --split-seeds seed (other held-out countries, other held-out names).
foreach (var (label, seed, ownNames) in new[] { ("generator split", (int?)null, true) }.Concat(splitSeeds.Select(s => ($"split seed {s}", (int?)s, false))))
{
    Console.WriteLine($"\n== {label}");
    var cccOptions = seed is int s ? new CccOptions(Seed: s) : new CccOptions();
    var ioiOptions = new IoiOptions(TestPromptsPerTemplate: HeldOutIoiPromptsPerTemplate, Seed: seed ?? new IoiOptions().Seed);
    var ioiTemplates = ownNames ? templates : templates with { IoiNamesTest = [] };
    var ccc = AcceptanceTasks.ByHeldOutPart(TaskGenerators.Ccc(countries, templates, cccOptions, model.Tokenizer), templates.CccTrain, "countries", "wording");
    var ioi = AcceptanceTasks.ByHeldOutPart(TaskGenerators.Ioi(names, ioiTemplates, ioiOptions, model.Tokenizer),
        templates.IoiTrain.SelectMany(x => new[] { TaskGenerators.IoiTemplateLabel("ABBA", x.Abba), TaskGenerators.IoiTemplateLabel("BABA", x.Baba) }).ToArray(), "names", "names+templates");
    checks.AddRange(Acceptance.Ccc(model, ccc, label, budget));
    // ABBA and BABA are two token layouts (the indirect object sits at position 1 in one, 3 in the other), so a
    // positional intervention is trained and judged on each order alone.
    foreach (var order in TaskGenerators.IoiOrders)
        checks.AddRange(Acceptance.Ioi(model, ioi.Where(e => TaskGenerators.IoiOrderOf(e) == order).ToArray(), $"{label}, {order}", budget));
}

Console.WriteLine("\ncheck | value | required | result");
foreach (var c in checks) Console.WriteLine(c);
var failed = checks.Where(c => !c.Passed).ToList();
Console.WriteLine(failed.Count == 0 ? "\nACCEPTANCE PASSED" : $"\nACCEPTANCE FAILED: {failed.Count} of {checks.Count} checks");
return failed.Count == 0 ? 0 : 1;

static string RepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "ActScale.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("Run the acceptance test from inside the ActScale repository (no ActScale.sln above the program).");
}
