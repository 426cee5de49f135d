using System.Diagnostics;

namespace ActScale.Tests.Reliability;

/// <summary>Puts a named pipe where a file is expected and checks that reading is refused instead of blocking.</summary>
public static class NamedPipes
{
    /// <summary>
    /// Replaces <paramref name="path"/> by a FIFO, runs <paramref name="read"/> and returns the exception it threw.
    /// Fails if it blocked for 20 s (then the pipe's other end is opened to free the blocked reader).
    /// </summary>
    public static Exception RefusedWithoutBlocking(string path, Action read)
    {
        File.Delete(path);
        using (var mkfifo = Process.Start("mkfifo", [path])) mkfifo.WaitForExit();
        var reading = Task.Run(read);
        bool finished = Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(20))).Result == reading;
        if (!finished) File.WriteAllText(path, "");
        Assert.True(finished, $"reading the named pipe '{path}' blocked");
        var error = reading.Exception?.InnerException ?? throw new Xunit.Sdk.XunitException($"the named pipe '{path}' was read without an error");
        Assert.Contains("named pipe", error.Message);
        Assert.Contains(path, error.Message);
        return error;
    }
}
