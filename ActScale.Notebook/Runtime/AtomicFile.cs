namespace ActScale.Runtime;

/// <summary>
/// Whole-file writes that a crash, a full disk or a concurrent writer can never leave half-done: the bytes go to a
/// uniquely named temporary file beside the target, reach the disk, and then replace the target by one rename. A reader
/// sees the old file or the new one, never a mix; a failed write leaves the old file and no temporary behind.
/// </summary>
public static class AtomicFile
{
    /// <summary>Test seam: runs just before the rename, so a test can fail a write at its most delicate point.</summary>
    internal static Action<string>? BeforeRename { get; set; }

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // Unique per write, so two processes saving to one path never write into each other's temporary file.
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true); // the rename must never expose a file whose bytes are not on disk yet
            }
            BeforeRename?.Invoke(temp);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp); // nothing under the final name was touched
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(text));

    /// <summary>Deletes a file if it is there; a file that cannot be deleted is left, since nothing depends on its absence.</summary>
    public static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
