using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ActScale.Tasks;

/// <summary>
/// Reads and writes task files: JSON Lines, one object per prompt with the string fields
/// <c>prompt</c>, <c>correct</c>, <c>wrong</c>, <c>split</c> and optionally <c>template</c>. Blank lines are skipped.
/// </summary>
public static class TaskFile
{
    public static IReadOnlyList<PromptExample> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Task file '{path}' does not exist.", path);
        var examples = Parse(File.ReadAllLines(path), path);
        if (examples.Count == 0)
            throw new TaskDataException($"Task file '{path}' has no prompts (it is empty or only blank lines). Each line must be one object like " +
                                        "{\"prompt\": \"...\", \"correct\": \" Paris\", \"wrong\": \" Rome\", \"split\": \"train\"}.");
        return examples;
    }

    /// <summary>Parses JSONL text; <paramref name="source"/> names it in error messages.</summary>
    public static IReadOnlyList<PromptExample> Parse(IEnumerable<string> lines, string source = "task data")
    {
        var result = new List<PromptExample>();
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
            if (string.IsNullOrWhiteSpace(split))
                throw new TaskDataException($"Line {number} of '{source}' has an empty \"split\"; use \"train\" or \"test\".");
            result.Add(new PromptExample(Field("prompt"), Field("correct"), Field("wrong"), split, Field("template", required: false)));
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
            text.Append(obj.ToJsonString(options)).Append('\n');
        }
        var temp = path + ".tmp";
        try
        {
            File.WriteAllText(temp, text.ToString(), new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            // The final file is untouched; remove the partial temporary one if we can.
            try { if (File.Exists(temp)) File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
