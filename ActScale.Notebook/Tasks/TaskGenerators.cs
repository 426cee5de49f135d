using ActScale.Model;

namespace ActScale.Tasks;

/// <summary>Which CCC answer counts as correct.</summary>
public enum CccCorrectAnswer
{
    /// <summary>The memorised (true) capital is correct; the capital stated in the context is wrong.</summary>
    Memorised,
    /// <summary>The capital stated in the context is correct; the memorised capital is wrong.</summary>
    InContext,
}

/// <summary>
/// Options of the CCC generator. [ours] <see cref="Correct"/> defaults to <see cref="CccCorrectAnswer.Memorised"/>
/// (steer the model towards its memory against a contradicting context); <see cref="TestFraction"/> of the
/// countries are held out for the test split (on the train templates); the test templates are test-only and use every country.
/// </summary>
public sealed record CccOptions(CccCorrectAnswer Correct = CccCorrectAnswer.Memorised, int Seed = 17, double TestFraction = 0.25);

/// <summary>
/// Options of the IOI generator: <see cref="PromptsPerTemplate"/> name pairs per train template and per order (ABBA,
/// BABA); test prompts use held-out names (<c>ioi_names_test</c> from the templates, else <see cref="TestNameFraction"/>
/// of the names) on the train templates, plus the test templates.
/// </summary>
public sealed record IoiOptions(int PromptsPerTemplate = 24, int TestPromptsPerTemplate = 8, int Seed = 23, double TestNameFraction = 0.25);

/// <summary>
/// Generates the CCC and IOI task data from word lists and templates with fixed seeds. With a tokenizer, answers
/// that are not single tokens are dropped (countries whose capital is, say, two tokens). Prompt lengths may differ
/// between templates and countries; positional methods keep one length with <see cref="TaskValidator.KeepOneLayout"/>.
/// </summary>
public static class TaskGenerators
{
    public static IReadOnlyList<PromptExample> Ccc(IReadOnlyList<(string Country, string Capital)> countries, TemplateSet templates,
        CccOptions? options = null, TextTokenizer? tokenizer = null)
    {
        options ??= new CccOptions();
        var usable = countries.Where(c => tokenizer is null || tokenizer.EncodeContinuation(" " + c.Capital).Length == 1).ToList();
        if (usable.Count < 2)
            throw new TaskDataException($"CCC needs at least two countries whose capital is a single token, but for this tokenizer {usable.Count} of " +
                                        $"{countries.Count} are: {MultiToken(countries.Select(c => c.Capital), tokenizer!)}. Use a model whose vocabulary " +
                                        "holds the capitals, or a task file with single-token answers.");
        var random = new Random(options.Seed);
        var order = Shuffled(usable, random);
        int testCount = (int)Math.Round(order.Count * options.TestFraction);
        var result = new List<PromptExample>();
        void Emit(string template, (string Country, string Capital) c, string split)
        {
            // Context capital: another country's capital, chosen with the seed.
            string other;
            do other = usable[random.Next(usable.Count)].Capital; while (other == c.Capital);
            var prompt = template.Replace("{country}", c.Country).Replace("{capital}", c.Capital).Replace("{context_capital}", other);
            var (correct, wrong) = options.Correct == CccCorrectAnswer.Memorised ? (c.Capital, other) : (other, c.Capital);
            result.Add(new PromptExample(prompt, " " + correct, " " + wrong, split, template)
                { Corrupt = Corruption.ReplaceLast(prompt, other, usable.Select(u => u.Capital).ToArray(), [c.Capital, other], tokenizer) });
        }
        for (int i = 0; i < order.Count; i++)
        {
            var split = i < testCount ? PromptExample.Test : PromptExample.Train;
            foreach (var t in templates.CccTrain) Emit(t, order[i], split);
        }
        foreach (var t in templates.CccTest)
            for (int i = 0; i < order.Count; i++) Emit(t, order[i], PromptExample.Test);
        return result;
    }

    /// <summary>Words that are several tokens as answers (with their leading space), with their token counts; the first few.</summary>
    private static string MultiToken(IEnumerable<string> words, TextTokenizer tokenizer)
    {
        var multi = words.Select(w => (Word: w, Count: tokenizer.EncodeContinuation(" " + w).Length)).Where(x => x.Count > 1).ToArray();
        return string.Join(", ", multi.Take(8).Select(x => $"\" {x.Word}\" is {x.Count} tokens")) + (multi.Length > 8 ? $" and {multi.Length - 8} more" : "");
    }

    public static IReadOnlyList<PromptExample> Ioi(IReadOnlyList<string> names, TemplateSet templates, IoiOptions? options = null,
        TextTokenizer? tokenizer = null)
    {
        options ??= new IoiOptions();
        bool Single(string word) => tokenizer is null || tokenizer.EncodeContinuation(" " + word).Length == 1;
        var usable = names.Where(Single).Distinct().ToList();
        var places = templates.Places.Where(Single).ToList();
        var objects = templates.Objects.Where(Single).ToList();
        var random = new Random(options.Seed);
        List<string> trainNames, testNames;
        if (templates.IoiNamesTest.Count > 0)
        {
            testNames = templates.IoiNamesTest.Where(Single).Distinct().ToList();
            trainNames = (templates.IoiNamesTrain.Count > 0 ? templates.IoiNamesTrain.Where(Single).Distinct() : usable).Except(testNames).ToList();
        }
        else
        {
            var order = Shuffled(usable, random);
            int testCount = Math.Max(2, (int)Math.Round(order.Count * options.TestNameFraction));
            testNames = order.Take(testCount).ToList();
            trainNames = order.Skip(testCount).ToList();
        }
        if (trainNames.Count < 2 || testNames.Count < 2)
            throw new TaskDataException($"IOI needs at least two single-token names for train and for test; found {trainNames.Count} and {testNames.Count}. " +
                                        $"Multi-token names for this tokenizer: {MultiToken(names.Concat(templates.IoiNamesTest).Distinct(), tokenizer!)}.");
        if (places.Count == 0 || objects.Count == 0)
            throw new TaskDataException($"IOI needs single-token places and objects; for this tokenizer none of the {(places.Count == 0 ? "places" : "objects")} is: " +
                                        $"{MultiToken(places.Count == 0 ? templates.Places : templates.Objects, tokenizer!)}.");

        var result = new List<PromptExample>();
        void Emit(IoiTemplate template, List<string> pool, int count, string split)
        {
            foreach (var baba in new[] { false, true })
                for (int k = 0; k < count; k++)
                {
                    var a = pool[random.Next(pool.Count)];
                    string b;
                    do b = pool[random.Next(pool.Count)]; while (b == a);
                    var text = baba ? template.Baba : template.Abba;
                    var prompt = text.Replace("{A}", a).Replace("{B}", b)
                        .Replace("{place}", places[random.Next(places.Count)]).Replace("{object}", objects[random.Next(objects.Count)]);
                    // The template as filled, so BABA prompts carry their own slot order and form a layout of their own.
                    result.Add(new PromptExample(prompt, " " + a, " " + b, split, IoiTemplateLabel(IoiOrders[baba ? 1 : 0], text))
                        { Corrupt = Corruption.ReplaceLast(prompt, b, pool, [a, b], tokenizer) });
                }
        }
        foreach (var t in templates.IoiTrain)
        {
            Emit(t, trainNames, options.PromptsPerTemplate, PromptExample.Train);
            Emit(t, testNames, options.TestPromptsPerTemplate, PromptExample.Test);
        }
        foreach (var t in templates.IoiTest) Emit(t, testNames, options.TestPromptsPerTemplate, PromptExample.Test);
        return result;
    }

    private const string OrderSeparator = ": ";

    /// <summary>The IOI name orders, {A} named first and {B} named first, by the names generated templates are labelled with.</summary>
    public static readonly IReadOnlyList<string> IoiOrders = ["ABBA", "BABA"];

    /// <summary>The template label of a generated IOI prompt: its order, then the template ("BABA: When {B} and {A} ...").</summary>
    public static string IoiTemplateLabel(string order, string template) => order + OrderSeparator + template;

    /// <summary>"ABBA" or "BABA" for a generated IOI prompt (its template names the order), else null.</summary>
    public static string? IoiOrderOf(PromptExample example) =>
        IoiOrders.FirstOrDefault(order => example.Template.StartsWith(order + OrderSeparator, StringComparison.Ordinal));

    /// <summary>Turns an ABBA template ({A} mentioned first) into BABA by swapping the first {A} and the first {B}.</summary>
    internal static string SwapFirstMentions(string template)
    {
        int a = template.IndexOf("{A}", StringComparison.Ordinal), b = template.IndexOf("{B}", StringComparison.Ordinal);
        if (a < 0 || b < 0) throw new TaskDataException($"IOI template '{template}' must contain {{A}} and {{B}}.");
        var chars = template.ToCharArray();
        chars[a + 1] = 'B';
        chars[b + 1] = 'A';
        return new string(chars);
    }

    /// <summary>Writes data/tasks/ccc.jsonl and data/tasks/ioi.jsonl under <paramref name="dataFolder"/> from its lists.</summary>
    public static (string Ccc, string Ioi) WriteDefaultTasks(string dataFolder, TextTokenizer tokenizer)
    {
        var templates = TemplateSet.ReadOrBuiltIn(Path.Combine(dataFolder, "lists", "templates.json"));
        var ccc = Ccc(WordLists.ReadCountries(Path.Combine(dataFolder, "lists", "countries.tsv")), templates, null, tokenizer);
        var ioi = Ioi(WordLists.ReadNames(Path.Combine(dataFolder, "lists", "names.txt")), templates, null, tokenizer);
        var cccPath = Path.Combine(dataFolder, "tasks", "ccc.jsonl");
        var ioiPath = Path.Combine(dataFolder, "tasks", "ioi.jsonl");
        TaskFile.Write(cccPath, ccc);
        TaskFile.Write(ioiPath, ioi);
        return (cccPath, ioiPath);
    }

    private static List<T> Shuffled<T>(IEnumerable<T> items, Random random)
    {
        var list = items.ToList();
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }
}
