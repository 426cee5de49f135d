using ActScale.Model;
using ActScale.Tasks;
using ActScale.Tests.Support;

namespace ActScale.Tests.Tasks;

/// <summary>Task files, generators and the validation messages users see.</summary>
public class TaskTests
{
    private static readonly TextTokenizer Tokenizer = TextTokenizer.FromGpt2Files(RepoPaths.Gpt2Tokenizer);

    private static TaskDataException Invalid(IReadOnlyList<PromptExample> examples, bool samePromptLength = false, int context = 1024) =>
        Assert.Throws<TaskDataException>(() => TaskValidator.Validate(examples, Tokenizer, context, samePromptLength, "ActivScalar"));

    [Fact]
    public void MultiTokenAnswerNamesThePromptAndShowsItsTokens()
    {
        var e = Invalid([new("The capital of Malaysia is", " Kuala Lumpur", " Paris", "train")]);
        Assert.Contains("Prompt #1 \"The capital of Malaysia is\"", e.Message);
        Assert.Contains("correct answer \" Kuala Lumpur\" is", e.Message);
        Assert.Matches("is [0-9]+ tokens \\[\"", e.Message);
        Assert.Contains("Lumpur\"]", e.Message);
        Assert.Contains("exactly one token", e.Message);
    }

    [Fact]
    public void CorrectEqualToWrongIsRefused()
    {
        var e = Invalid([new("The capital of France is", " Paris", " Paris", "train")]);
        Assert.Contains("the correct and the wrong answer are both \" Paris\"", e.Message);
    }

    [Fact]
    public void EmptySetIsRefused() => Assert.Contains("has no prompts", Invalid([]).Message);

    [Fact]
    public void MissingTrainSplitIsRefused()
    {
        var e = Invalid([new("The capital of France is", " Paris", " Rome", "test")]);
        Assert.Contains("No prompt has split \"train\"; splits found: \"test\"", e.Message);
    }

    [Fact]
    public void PromptLongerThanTheContextIsRefused()
    {
        var e = Invalid([new("The capital of France is", " Paris", " Rome", "train")], context: 3);
        Assert.Contains("has 5 tokens but the model's context holds 3", e.Message);
    }

    [Fact]
    public void MixedLengthsForPositionalMethodsSayWhichLengthsAndWhatToDo()
    {
        var e = Invalid([
            new("The capital of France is", " Paris", " Rome", "train"),
            new("The capital of Italy is", " Rome", " Paris", "train"),
            new("Indeed, the capital of Spain is", " Madrid", " Rome", "train"),
        ], samePromptLength: true);
        Assert.Contains("5 tokens (2 prompts), 7 tokens (1 prompts)", e.Message);
        Assert.Contains("Use DynScalar", e.Message);
        Assert.Contains("KeepOneLayout", e.Message);
    }

    [Fact]
    public void KeepOneLayoutKeepsTheCommonestTrainLengthInEverySplit()
    {
        PromptExample[] examples =
        [
            new("The capital of France is", " Paris", " Rome", "train"),
            new("The capital of Italy is", " Rome", " Paris", "train"),
            new("Indeed, the capital of Spain is", " Madrid", " Rome", "train"),
            new("The capital of Spain is", " Madrid", " Rome", "test"),
            new("Indeed, the capital of Italy is", " Rome", " Paris", "test"),
        ];
        var (kept, dropped) = TaskValidator.KeepOneLayout(examples, Tokenizer);
        Assert.Equal(3, kept.Count);
        Assert.All(kept, k => Assert.Equal(5, Tokenizer.Encode(k.Prompt).Length));
        Assert.Contains("dropped 1 test prompts of 7 tokens, 1 train prompts of 7 tokens", dropped);
        TaskValidator.Validate(kept, Tokenizer, 1024, samePromptLength: true);
    }

    [Fact]
    public void BrokenJsonLineAndMissingFieldGiveTheLineNumber()
    {
        var broken = Assert.Throws<TaskDataException>(() => TaskFile.Parse([
            "{\"prompt\": \"a\", \"correct\": \" b\", \"wrong\": \" c\", \"split\": \"train\"}", "", "{\"prompt\": \"a\", "], "my.jsonl"));
        Assert.Contains("Line 3 of 'my.jsonl' is not valid JSON", broken.Message);
        var missing = Assert.Throws<TaskDataException>(() => TaskFile.Parse(["{\"prompt\": \"a\", \"correct\": \" b\", \"split\": \"train\"}"], "my.jsonl"));
        Assert.Contains("Line 1 of 'my.jsonl' lacks the field \"wrong\"", missing.Message);
        var noSplit = Assert.Throws<TaskDataException>(() => TaskFile.Parse(["{\"prompt\": \"a\", \"correct\": \" b\", \"wrong\": \" c\"}"], "my.jsonl"));
        Assert.Contains("lacks the field \"split\"", noSplit.Message);
    }

    [Fact]
    public void TaskFilesRoundTrip()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "t.jsonl");
        PromptExample[] examples = [new("Q: \"x\"? A:", " Paris", " Rome", "train", "t1"), new("é ü", " a", " b", "test")];
        TaskFile.Write(path, examples);
        Assert.Equal(examples, TaskFile.Read(path));
    }

    [Fact]
    public void IoiTemplatesGiveAbbaAndBabaWithTheIndirectObjectCorrect()
    {
        Assert.Equal("When {B} and {A} met, {B} gave it to", TaskGenerators.SwapFirstMentions("When {A} and {B} met, {B} gave it to"));
        var ioi = TaskGenerators.Ioi(WordLists.ReadNames(Path.Combine(RepoPaths.Data, "lists", "names.txt")), TemplateSet.BuiltIn, tokenizer: Tokenizer);
        var abba = ioi.First(e => e.Template.StartsWith("ABBA"));
        var baba = ioi.First(e => e.Template.StartsWith("BABA"));
        Assert.StartsWith("When" + abba.Correct + " and" + abba.Wrong, abba.Prompt);
        Assert.StartsWith("When" + baba.Wrong + " and" + baba.Correct, baba.Prompt);
        Assert.EndsWith(",", abba.Prompt.Split(abba.Wrong)[1]);
    }

    [Fact]
    public void CccCorrectAnswerIsAnOption()
    {
        var countries = WordLists.ReadCountries(Path.Combine(RepoPaths.Data, "lists", "countries.tsv"));
        var memorised = TaskGenerators.Ccc(countries, TemplateSet.BuiltIn, new CccOptions(), Tokenizer);
        var inContext = TaskGenerators.Ccc(countries, TemplateSet.BuiltIn, new CccOptions(CccCorrectAnswer.InContext), Tokenizer);
        var france = memorised.First(e => e.Prompt.Contains("of France"));
        Assert.Equal(" Paris", france.Correct);
        Assert.Contains("is" + france.Wrong + ".", france.Prompt);
        Assert.Equal(memorised.Select(e => (e.Correct, e.Wrong)), inContext.Select(e => (e.Wrong, e.Correct)));
    }

    /// <summary>data/tasks/*.jsonl are exactly what the generators write from data/lists (`dotnet ActScale.Notebook.Tests.dll write-tasks` rewrites them).</summary>
    [Fact]
    public void CommittedTaskFilesMatchTheGenerators()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var data = RepoPaths.Data;
        Directory.CreateDirectory(Path.Combine(folder.Path, "lists"));
        foreach (var file in Directory.GetFiles(Path.Combine(data, "lists"))) File.Copy(file, Path.Combine(folder.Path, "lists", Path.GetFileName(file)));
        var (ccc, ioi) = TaskGenerators.WriteDefaultTasks(folder.Path, Tokenizer);
        Assert.Equal(File.ReadAllText(Path.Combine(data, "tasks", "ccc.jsonl")), File.ReadAllText(ccc));
        Assert.Equal(File.ReadAllText(Path.Combine(data, "tasks", "ioi.jsonl")), File.ReadAllText(ioi));
        foreach (var path in new[] { ccc, ioi })
        {
            var examples = TaskFile.Read(path);
            TaskValidator.Validate(examples, Tokenizer, 1024, samePromptLength: false, requiredSplits: ["train", "test"]);
            var (kept, _) = TaskValidator.KeepOneLayout(examples, Tokenizer);
            Assert.Contains(kept, k => k.Split == "test");
        }
    }
}
