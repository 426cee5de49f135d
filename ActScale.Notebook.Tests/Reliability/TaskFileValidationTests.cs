using System.Text;
using ActScale.Tasks;
using ActScale.Tests.Support;

namespace ActScale.Tests.Reliability;

/// <summary>Careless task files, written by code: each problem is reported with the file and the line, never dropped or altered silently.</summary>
public class TaskFileValidationTests
{
    private const string Good = "{\"prompt\": \"The capital of France is\", \"correct\": \" Paris\", \"wrong\": \" Rome\", \"split\": \"train\"}";

    private static TaskDataException ReadFails(TinyCheckpoints.TempFolder folder, byte[] content, out string path)
    {
        path = Path.Combine(folder.Path, "task.jsonl");
        File.WriteAllBytes(path, content);
        var file = path;
        return Assert.Throws<TaskDataException>(() => TaskFile.Read(file));
    }

    private static byte[] Lines(params string[] lines) => Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");

    [Fact]
    public void InvalidUtf8IsRefusedNamingFileAndLine()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var bad = Encoding.UTF8.GetBytes(Good.Replace("France", "Fr\u00e4nce"));
        int at = Array.IndexOf(bad, (byte)0xC3);
        bad[at + 1] = (byte)'x'; // a lead byte followed by ASCII: not UTF-8
        var content = Lines(Good).Concat(bad).Concat("\n"u8.ToArray()).ToArray();
        var error = ReadFails(folder, content, out var path);
        Assert.Contains("Line 2", error.Message);
        Assert.Contains(path, error.Message);
        Assert.Contains("UTF-8", error.Message);
    }

    [Fact]
    public void ValidUtf8WithBomAndCrLfReadsExactly()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "task.jsonl");
        var text = Good.Replace("France", "Fr\u00e4nce") + "\r\n" + Good.Replace("train", "test").Replace("France", "Spain") + "\r\n";
        File.WriteAllBytes(path, [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(text)]);
        var examples = TaskFile.Read(path);
        Assert.Equal("The capital of Fr\u00e4nce is", examples[0].Prompt);
        Assert.Equal("test", examples[1].Split);
    }

    [Theory]
    [InlineData("Train")]
    [InlineData("validation")]
    [InlineData(" train")]
    [InlineData("TEST")]
    public void UnknownSplitNamesAreReportedNotDropped(string split)
    {
        using var folder = TinyCheckpoints.NewFolder();
        var error = ReadFails(folder, Lines(Good, Good.Replace("France", "Spain").Replace("\"train\"", $"\"{split}\"")), out var path);
        Assert.Contains("Line 2", error.Message);
        Assert.Contains($"\"{split}\"", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void APromptInBothTrainAndTestIsFlagged()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var error = ReadFails(folder, Lines(Good, Good.Replace("France", "Spain"), Good.Replace("\"train\"", "\"test\"")), out _);
        Assert.Contains("Lines 1 and 3", error.Message);
        Assert.Contains("The capital of France is", error.Message);
    }

    [Fact]
    public void ARepeatedPromptWithinOneSplitIsAllowed()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "task.jsonl");
        File.WriteAllBytes(path, Lines(Good, Good.Replace(" Rome", " Oslo")));
        Assert.Equal(2, TaskFile.Read(path).Count);
    }

    [Fact]
    public void DuplicateKeysNameTheLine()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var error = ReadFails(folder, Lines(Good, Good.Replace("{\"prompt\"", "{\"prompt\": \"x\", \"prompt\"")), out var path);
        Assert.Contains("Line 2", error.Message);
        Assert.Contains(path, error.Message);
        Assert.Contains("twice", error.Message);
    }

    [Theory]
    [InlineData("{\"prompt\": 5, \"correct\": \" Paris\", \"wrong\": \" Rome\", \"split\": \"train\"}", "prompt")]
    [InlineData("{\"prompt\": \"x\", \"correct\": [\" Paris\"], \"wrong\": \" Rome\", \"split\": \"train\"}", "correct")]
    [InlineData("{\"prompt\": \"x\", \"correct\": \" Paris\", \"wrong\": \" Rome\", \"split\": null}", "split")]
    [InlineData("[\"x\", \" Paris\", \" Rome\", \"train\"]", "JSON object")]
    public void WrongJsonTypesNameFileLineAndField(string line, string said)
    {
        using var folder = TinyCheckpoints.NewFolder();
        var error = ReadFails(folder, Lines(Good, line), out var path);
        Assert.Contains("Line 2", error.Message);
        Assert.Contains(path, error.Message);
        Assert.Contains(said, error.Message);
    }

    [Fact]
    public void ANamedPipeIsRefusedWithoutBlocking()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "task.jsonl");
        NamedPipes.RefusedWithoutBlocking(path, () => TaskFile.Read(path));
    }
}
