using ActScale.Notebook;

namespace ActScale.Cli;

/// <summary>
/// The words after <c>actscale SUBCOMMAND</c>: positional words and <c>--name value</c> options, checked against the
/// subcommand's declared options with the same messages the magics give (only the command's name differs).
/// </summary>
internal sealed class CommandLine : IOptionValues
{
    private readonly Dictionary<string, string> _options;

    private CommandLine(string command, IReadOnlyList<string> positional, Dictionary<string, string> options)
    {
        Command = command; Positional = positional; _options = options;
    }

    /// <summary>What the user typed to get here ("actscale sweep run"), for messages.</summary>
    public string Command { get; }
    public IReadOnlyList<string> Positional { get; }
    public bool Help => _options.ContainsKey("--help");

    /// <summary>The option's text, or null when it was not given.</summary>
    public string? this[string option] => _options.GetValueOrDefault(option);

    /// <summary>The option's value, parsed and range-checked by its declaration (its default when not given).</summary>
    public T Get<T>(MagicOption<T> option) => option.Read(this[option.Name]);

    public IReadOnlyDictionary<string, string> Options => _options;

    /// <param name="flags">Options that take no value (e.g. --all).</param>
    public static CommandLine Parse(string command, IReadOnlyList<string> words, IReadOnlyList<MagicOption> declared, params string[] flags)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        var bare = new List<string>();
        for (int i = 0; i < words.Count; i++)
        {
            var word = words[i];
            if (!word.StartsWith("--", StringComparison.Ordinal)) { positional.Add(word); continue; }
            var name = word.ToLowerInvariant();
            var spec = declared.FirstOrDefault(o => o.Name == name);
            if (name == "--help" || flags.Contains(name)) { options[name] = "true"; continue; }
            if (spec is null) { unknown.Add(word); if (i + 1 < words.Count && !words[i + 1].StartsWith("--", StringComparison.Ordinal)) i++; continue; }
            if (i + 1 == words.Count || words[i + 1].StartsWith("--", StringComparison.Ordinal)) { bare.Add(name); continue; }
            options[name] = words[++i];
        }
        if (unknown.Count > 0)
        {
            var names = declared.Select(o => o.Name).Union(flags).ToArray();
            var known = names.Length == 0 ? "it takes no options" : "its options are " + string.Join(", ", names);
            throw new UsageException($"{command} has no option {string.Join(", ", unknown)}; {known}. Type {command} --help for details.");
        }
        if (bare.Count > 0)
            throw new UsageException($"{string.Join(", ", bare)} needs a value, e.g. {bare[0]} {declared.First(o => o.Name == bare[0]).Example}. Type {command} --help for details.");
        return new CommandLine(command, positional, options);
    }

    /// <summary>The single positional word the command needs (a folder, a file), or a message saying how to type it.</summary>
    public string RequirePositional(string what, string usage) =>
        Positional.Count switch
        {
            1 => Positional[0],
            0 => throw new UsageException($"{Command} needs {what}: {usage}"),
            _ => throw new UsageException($"{Command} takes one {what}, not {Positional.Count} ({string.Join(" ", Positional)}): {usage}"),
        };
}
