using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ActScale.Runtime;

namespace ActScale.Tasks;

/// <summary>
/// Reads and writes task files: JSON Lines, one object per prompt with the string fields
/// <c>prompt</c>, <c>correct</c>, <c>wrong</c>, <c>split</c> and optionally <c>template</c> and <c>corrupt</c> (the prompt
/// with its answer-relevant word swapped, same token count, for activation patching). Blank lines are skipped.
/// </summary>
public static class TaskFile
{
    public static IReadOnlyList<PromptExample> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Task file '{path}' does not exist.", path);
        ActScale.Model.RegularFile.Require(path, "Task file");
        var examples = Parse(Lines(path), path);
        if (examples.Count == 0)
            throw new TaskDataException($"Task file '{path}' has no prompts (it is empty or only blank lines). Each line must be one object like " +
                                        "{\"prompt\": \"...\", \"correct\": \" Paris\", \"wrong\": \" Rome\", \"split\": \"train\"}.");
        return examples;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The file's lines, decoded strictly: invalid UTF-8 is an error naming the line, never a silent U+FFFD that
    /// would change a prompt or an answer.
    /// </summary>
    private static IEnumerable<string> Lines(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? 3 : 0, number = 0;
        while (start < bytes.Length)
        {
            number++;
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) end = bytes.Length;
            int length = end - start - (end > start && bytes[end - 1] == (byte)'\r' ? 1 : 0);
            string line;
            try
            {
                line = StrictUtf8.GetString(bytes, start, length);
            }
            catch (DecoderFallbackException e)
            {
                throw new TaskDataException($"Line {number} of '{path}' is not valid UTF-8 (byte {e.Index} of the line). Save the file as UTF-8.");
            }
            yield return line;
            start = end + 1;
        }
    }

    /// <summary>
    /// Parses JSONL text; <paramref name="source"/> names it in error messages. Splits must be exactly "train" or
    /// "test" (a misspelled one would otherwise drop its prompts from both), and no prompt may be in both.
    /// </summary>
    public static IReadOnlyList<PromptExample> Parse(IEnumerable<string> lines, string source = "task data")
    {
        var result = new List<PromptExample>();
        var firstLine = new Dictionary<(string Prompt, string Split), int>();
        int number = 0;
        foreach (var line in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonObject obj;
            try
            {
                obj = JsonNode.Parse(line) as JsonObject
                      ?? throw new TaskDataException($"Line {number} of '{source}' is not a JSON object.");
                _ = obj.Count;
            }
            catch (ArgumentException)
            {
                // System.Text.Json reports a repeated key only as a dictionary error when the object is first read.
                throw new TaskDataException($"Line {number} of '{source}' has the same key twice; each field (prompt, correct, wrong, split) may appear once.");
            }
            catch (JsonException e)
            {
                throw new TaskDataException($"Line {number} of '{source}' is not valid JSON ({e.Message}). Each line must be one object like " +
                                            "{\"prompt\": \"...\", \"correct\": \" Paris\", \"wrong\": \" Rome\", \"split\": \"train\"}.");
            }
            string Field(string name, bool required = true)
            {
                var node = obj[name];
                if (node is null)
                {
                    if (!required) return "";
                    throw new TaskDataException($"Line {number} of '{source}' lacks the field \"{name}\". Required fields: prompt, correct, wrong, split.");
                }
                if (node is not JsonValue v || !v.TryGetValue<string>(out var s))
                    throw new TaskDataException($"Line {number} of '{source}': field \"{name}\" must be a string, found {node.ToJsonString()}.");
                return s;
            }
            var split = Field("split");
            if (split is not (PromptExample.Train or PromptExample.Test))
                throw new TaskDataException($"Line {number} of '{source}' has split \"{split}\"; a split must be exactly \"train\" or \"test\" " +
                                            "(lower case, no spaces).");
            var prompt = Field("prompt");
            var other = split == PromptExample.Train ? PromptExample.Test : PromptExample.Train;
            if (firstLine.TryGetValue((prompt, other), out var seen))
                throw new TaskDataException($"Lines {seen} and {number} of '{source}' hold the same prompt \"{prompt}\" in train and in test; " +
                                            "a test prompt seen in training says nothing about generalisation. Keep it in one split.");
            firstLine.TryAdd((prompt, split), number);
            result.Add(new PromptExample(prompt, Field("correct"), Field("wrong"), split, Field("template", required: false))
                { Corrupt = Field("corrupt", required: false) is { Length: > 0 } corrupt ? corrupt : null });
        }
        return result;
    }

    public static void Write(string path, IEnumerable<PromptExample> examples)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        var text = new StringBuilder();
        var options = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        foreach (var e in examples)
        {
            var obj = new JsonObject
            {
                ["prompt"] = e.Prompt, ["correct"] = e.Correct, ["wrong"] = e.Wrong, ["split"] = e.Split, ["template"] = e.Template,
            };
            if (e.Corrupt is not null) obj["corrupt"] = e.Corrupt;
            text.Append(obj.ToJsonString(options)).Append('\n');
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
