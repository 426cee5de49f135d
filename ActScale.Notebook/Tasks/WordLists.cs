namespace ActScale.Tasks;

/// <summary>Reads the repository's word lists (<c>data/lists/countries.tsv</c>, <c>data/lists/names.txt</c>); '#' starts a comment line.</summary>
public static class WordLists
{
    public static IReadOnlyList<(string Country, string Capital)> ReadCountries(string path) =>
        Lines(path).Select((line, i) =>
        {
            var parts = line.Split('\t');
            if (parts.Length != 2) throw new TaskDataException($"'{path}': line '{line}' must be 'country<TAB>capital'.");
            return (parts[0].Trim(), parts[1].Trim());
        }).ToArray();

    public static IReadOnlyList<string> ReadNames(string path) => Lines(path).Select(l => l.Trim()).ToArray();

    private static IEnumerable<string> Lines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Word list '{path}' does not exist.", path);
        return File.ReadAllLines(path).Where(l => !string.IsNullOrWhiteSpace(l) && !l.TrimStart().StartsWith('#'));
    }
}
