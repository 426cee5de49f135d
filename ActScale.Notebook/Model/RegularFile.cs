using System.Runtime.InteropServices;

namespace ActScale.Model;

/// <summary>
/// Refuses named pipes, devices and sockets where ActScale expects a file it will read to the end (weights, configs,
/// tokenizers, task files): opening a pipe blocks until someone writes to it, and a device never ends. .NET reports
/// no file type on Unix, so the type bits come from stat(2).
/// </summary>
public static class RegularFile
{
    private const uint TypeMask = 0xF000, Regular = 0x8000, Directory = 0x4000;

    /// <summary>Throws when <paramref name="path"/> exists but is not a regular file (symbolic links are followed).</summary>
    public static void Require(string path, string role)
    {
        if (TypeBits(path) is uint type && type != Regular)
            throw new InvalidDataException(
                $"{role} '{path}' is not a regular file (it is {Describe(type)}); ActScale reads only plain files. " +
                "Copy the content into an ordinary file and pass that.");
    }

    private static string Describe(uint type) => type switch
    {
        0x1000 => "a named pipe",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0xC000 => "a socket",
        Directory => "a directory",
        _ => $"of file type 0x{type:X}",
    };

    /// <summary>The S_IFMT bits, or null where they cannot be read here (Windows, an unknown stat layout, no such file).</summary>
    private static uint? TypeBits(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        // st_mode's offset in glibc's struct stat: after st_dev, st_ino, st_nlink on x86-64; after st_dev, st_ino on arm64.
        int? modeOffset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            _ => null,
        };
        if (modeOffset is not int offset) return null;
        var buffer = new byte[256]; // larger than struct stat on every Linux ABI
        try
        {
            if (Stat(path, buffer) != 0) return null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // a C library without the stat symbol (glibc before 2.33): skip the check rather than fail
        }
        return BitConverter.ToUInt32(buffer, offset) & TypeMask;
    }

    [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
}
