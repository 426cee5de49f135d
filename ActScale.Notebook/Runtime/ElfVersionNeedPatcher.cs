using System.Buffers.Binary;
using System.Text;

namespace ActScale.Runtime;

/// <summary>
/// Marks one symbol-version requirement of an ELF64 shared library as weak (VER_FLG_WEAK in
/// <c>.gnu.version_r</c>). The dynamic loader then accepts a libstdc++ that lacks that version instead of
/// refusing to load the whole library. Only the two flag bytes of the matching entry change.
/// </summary>
internal static class ElfVersionNeedPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>Returns true when <paramref name="elf"/> needed <paramref name="version"/> strongly and now needs it weakly.</summary>
    public static bool MarkVersionNeedWeak(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("Not an ELF file.");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("Only little-endian ELF64 libraries are supported.");

        var span = elf.AsSpan();
        long sectionTable = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]);
        int sectionSize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        bool changed = false;

        for (int s = 0; s < sectionCount; s++)
        {
            var header = span.Slice((int)(sectionTable + s * sectionSize), sectionSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != ShtGnuVerneed) continue;

            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]);
            int linkedStrings = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x28..]);
            var stringsHeader = span.Slice((int)(sectionTable + linkedStrings * sectionSize), sectionSize);
            long stringsOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(stringsHeader[0x18..]);

            long need = offset;
            while (true)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(span[(int)(need + 2)..]);
                uint auxOffset = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(need + 8)..]);
                uint nextNeed = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(need + 12)..]);
                long aux = need + auxOffset;
                for (int a = 0; a < auxCount; a++)
                {
                    uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(aux + 8)..]);
                    if (ReadCString(span, stringsOffset + nameOffset) == version)
                    {
                        var flags = span[(int)(aux + 4)..];
                        ushort old = BinaryPrimitives.ReadUInt16LittleEndian(flags);
                        if ((old & VerFlagWeak) == 0)
                        {
                            BinaryPrimitives.WriteUInt16LittleEndian(flags, (ushort)(old | VerFlagWeak));
                            changed = true;
                        }
                    }
                    uint nextAux = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(aux + 12)..]);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                if (nextNeed == 0) break;
                need += nextNeed;
            }
        }
        return changed;
    }

    /// <summary>True when the file's bytes name <paramref name="version"/> anywhere (a version-definition check that needs no loading).</summary>
    public static bool FileMentions(string path, string version)
    {
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        return File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0;
    }

    private static string ReadCString(ReadOnlySpan<byte> data, long offset)
    {
        var rest = data[(int)offset..];
        int end = rest.IndexOf((byte)0);
        return Encoding.ASCII.GetString(rest[..end]);
    }
}
