using ActScale.Notebook;

namespace ActScale.Cli;

/// <summary>Plain-text help: usage, what the command does, and its options with their defaults.</summary>
internal static class Help
{
    public static int Show(string usage, string summary, IReadOnlyList<MagicOption> options)
    {
        Console.Out.WriteLine($"usage: {usage}\n\n{summary}\n");
        int width = options.Count == 0 ? 0 : options.Max(o => o.Name.Length);
        foreach (var o in options)
            Console.Out.WriteLine($"  {o.Name.PadRight(width)}  {o.Help}{(o.DefaultText.Length == 0 ? "" : $" Default: {o.DefaultText}.")}");
        return 0;
    }
}
