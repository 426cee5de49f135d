using System.IO.Compression;
using System.Text;
using ActScale.Model;
using ActScale.Tests.Support;

namespace ActScale.Tests.Reliability;

/// <summary>
/// pytorch_model.bin files built byte by byte: pickles that play with the memo so that a checker which numbers the
/// memo differently from the unpickler would see an allowed name where Python imports os.system, and zip bombs.
/// </summary>
public class HostilePickleTests
{
    /// <summary>A tiny pickle assembler: each call appends one opcode.</summary>
    private sealed class Pickle
    {
        private readonly List<byte> _bytes = [0x80, 4];
        public Pickle Str(string s) { var b = Encoding.UTF8.GetBytes(s); _bytes.Add(0x8c); _bytes.Add((byte)b.Length); _bytes.AddRange(b); return this; }
        public Pickle Op(params byte[] op) { _bytes.AddRange(op); return this; }
        public Pickle Text(char op, string argument) { _bytes.Add((byte)op); _bytes.AddRange(Encoding.ASCII.GetBytes(argument + "\n")); return this; }
        public Pickle Memoize() => Op(0x94);
        public Pickle Pop() => Op((byte)'0');
        public byte[] Bytes() => _bytes.ToArray();

        /// <summary>STACK_GLOBAL, then calls it with ("touch pwned",) and stops.</summary>
        public byte[] CallAndStop()
        {
            Op(0x93).Op((byte)'X', 11, 0, 0, 0).Op("touch pwned"u8.ToArray()).Op(0x85, (byte)'R', (byte)'.');
            return _bytes.ToArray();
        }
    }

    /// <summary>
    /// Slot 0 is taken by an explicit PUT first, so the unpickler's MEMOIZE numbers the next strings 1, 2, 3, 4 while
    /// a checker counting MEMOIZEs alone numbers them 0, 1, 2, 3: GETs 1 and 3 read "os", "system" in Python and
    /// "collections", "OrderedDict" in such a checker. (Checked against CPython's pickle: it imports os.system.)
    /// </summary>
    private static Pickle SlotZeroTakenBy(Func<Pickle, Pickle> put)
    {
        var p = put(new Pickle().Str("x")).Pop();
        foreach (var word in new[] { "os", "collections", "system", "OrderedDict" }) p.Str(word).Memoize().Pop();
        return p;
    }

    public static TheoryData<string, byte[]> MemoTricks() => new()
    {
        { "BINPUT then MEMOIZE, BINGET", SlotZeroTakenBy(p => p.Op((byte)'q', 0)).Op((byte)'h', 1, (byte)'h', 3).CallAndStop() },
        { "LONG_BINPUT then MEMOIZE, BINGET", SlotZeroTakenBy(p => p.Op((byte)'r', 0, 0, 0, 0)).Op((byte)'h', 1, (byte)'h', 3).CallAndStop() },
        { "PUT then MEMOIZE, GET", SlotZeroTakenBy(p => p.Text('p', "0")).Text('g', "1").Text('g', "3").CallAndStop() },
        { "BINPUT then MEMOIZE, LONG_BINGET", SlotZeroTakenBy(p => p.Op((byte)'q', 0)).Op((byte)'j', 1, 0, 0, 0, (byte)'j', 3, 0, 0, 0).CallAndStop() },
        { "a slot overwritten by BINPUT after MEMOIZE", new Pickle().Str("collections").Memoize().Str("OrderedDict").Memoize().Pop().Pop()
            .Str("os").Op((byte)'q', 0).Pop().Str("system").Op((byte)'q', 1).Pop().Op((byte)'h', 0, (byte)'h', 1).CallAndStop() },
        { "allowed names dropped by POP_MARK", new Pickle().Str("os").Op((byte)'(').Str("collections").Str("OrderedDict").Op((byte)'1')
            .Str("system").CallAndStop() },
        { "DUP of a memoised name", new Pickle().Str("os").Memoize().Op((byte)'2').Pop().Str("system").CallAndStop() },
    };

    private static string WriteBin(TinyCheckpoints.TempFolder folder, byte[] pickle, CompressionLevel level = CompressionLevel.NoCompression)
    {
        var path = Path.Combine(folder.Path, "pytorch_model.bin");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var entry = zip.CreateEntry("archive/data.pkl", level).Open();
        entry.Write(pickle);
        return path;
    }

    [Theory]
    [MemberData(nameof(MemoTricks))]
    public void MemoTricksAreSeenThroughAndRefused(string trick, byte[] pickle)
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = WriteBin(folder, pickle);
        var error = Assert.Throws<UnsafePickleException>(() => RestrictedUnpickler.ReadStateDict(path));
        Assert.True(error.Message.Contains("os.system"), $"{trick}: {error.Message}");
        Assert.False(File.Exists(Path.Combine(folder.Path, "pwned")));
    }

    [Fact]
    public void ExtensionRegistryImportsAreRefused()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = WriteBin(folder, [0x80, 2, 0x82, 1, (byte)')', (byte)'R', (byte)'.']);
        Assert.Throws<UnsafePickleException>(() => RestrictedUnpickler.ReadStateDict(path));
    }

    [Fact]
    public void AGetOfASlotNeverStoredIsMalformed()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = WriteBin(folder, new Pickle().Str("os").Memoize().Op((byte)'h', 0, (byte)'h', 7).CallAndStop());
        var error = Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.ReadStateDict(path));
        Assert.Contains("memo slot 7", error.Message);
    }

    /// <summary>200 MB of zeros deflate to about 200 KB: the zip directory declares a thousandfold expansion.</summary>
    [Fact]
    public void ZipBombIsRefusedFastWithoutInflating()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = Path.Combine(folder.Path, "pytorch_model.bin");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.SmallestSize).Open())
        {
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 200; i++) entry.Write(zeros);
        }
        Assert.True(new FileInfo(path).Length < 2_000_000);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.ReadStateDict(path));
        Assert.Contains("zip bomb", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"refusing took {watch.Elapsed}");
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 20_000_000, $"refusing allocated {allocated} bytes");
    }

    /// <summary>A directory that declares a 4-byte data.pkl over a stream that inflates to 50 MB: only the declared bytes are inflated.</summary>
    [Fact]
    public void OnlyTheDeclaredBytesOfAnEntryAreInflated()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var pickle = new byte[50 << 20];
        pickle[0] = 0x80; pickle[1] = 2; pickle[2] = (byte)'N'; pickle[3] = (byte)'.';
        var path = WriteBin(folder, pickle, CompressionLevel.SmallestSize);
        var bytes = File.ReadAllBytes(path);
        // Both the local header (size at +22) and the central directory (size at +24) declare 4 bytes instead of 50 MB.
        PatchSizes(bytes, 0x04034b50, 22);
        PatchSizes(bytes, 0x02014b50, 24);
        File.WriteAllBytes(path, bytes);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        Assert.IsNotType<OutOfMemoryException>(Record.Exception(() => RestrictedUnpickler.ReadStateDict(path)));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 20_000_000, $"reading allocated {allocated} bytes");
    }

    private static void PatchSizes(byte[] zip, uint signature, int sizeOffset)
    {
        for (int i = 0; i + 4 <= zip.Length; i++)
            if (BitConverter.ToUInt32(zip, i) == signature)
                BitConverter.GetBytes(4u).CopyTo(zip, i + sizeOffset);
    }

    /// <summary>
    /// A one-tensor state dict as torch.save pickles it: OrderedDict with key "w" rebuilt by _rebuild_tensor_v2 from
    /// storage "0" (a FloatStorage of <paramref name="elements"/>), whose zip entry holds <paramref name="entryFloats"/> floats.
    /// </summary>
    private static string WriteTensorBin(TinyCheckpoints.TempFolder folder, long elements, int entryFloats, int offset, int[] size, int[] stride)
    {
        var p = new Pickle().Text('c', "collections").Op("OrderedDict\n"u8.ToArray()).Op((byte)')', (byte)'R', (byte)'(')
            .Str("w").Text('c', "torch._utils").Op("_rebuild_tensor_v2\n"u8.ToArray()).Op((byte)'(')
            .Op((byte)'(').Str("storage").Text('c', "torch").Op("FloatStorage\n"u8.ToArray()).Str("0").Str("cpu").Op((byte)'K', (byte)elements, (byte)'t', (byte)'Q')
            .Op((byte)'K', (byte)offset).Op((byte)'(');
        foreach (var d in size) p.Op((byte)'K', (byte)d);
        p.Op((byte)'t', (byte)'(');
        foreach (var d in stride) p.Op((byte)'K', (byte)d);
        var pickle = p.Op((byte)'t', 0x89).Text('c', "collections").Op("OrderedDict\n"u8.ToArray()).Op((byte)')', (byte)'R', (byte)'t', (byte)'R', (byte)'u', (byte)'.')
            .Bytes();
        var path = Path.Combine(folder.Path, "pytorch_model.bin");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) entry.Write(pickle);
        using (var data = zip.CreateEntry("archive/data/0", CompressionLevel.NoCompression).Open())
            for (int i = 0; i < entryFloats; i++) data.Write(BitConverter.GetBytes(i + 1f));
        return path;
    }

    [Fact]
    public void AWholeRowMajorTensorLoads()
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = WriteTensorBin(folder, elements: 4, entryFloats: 4, offset: 0, size: [2, 2], stride: [2, 1]);
        var state = RestrictedUnpickler.ReadStateDict(path);
        using var w = (TorchSharp.torch.Tensor)state["w"]!;
        Assert.Equal([1f, 2f, 3f, 4f], w.data<float>().ToArray());
    }

    [Theory]
    [InlineData(4, 3, 0, new[] { 2, 2 }, new[] { 2, 1 }, "needs 16 bytes")]    // the entry is shorter than the storage
    [InlineData(4, 4, 0, new[] { 4, 4 }, new[] { 4, 1 }, "16 elements")]       // the tensor is larger than its storage
    [InlineData(8, 8, 2, new[] { 2, 2 }, new[] { 2, 1 }, "offset 2")]          // a view into the middle
    [InlineData(4, 4, 0, new[] { 2, 2 }, new[] { 1, 2 }, "strided view")]      // a transposed view
    public void TensorsThatTheReaderWouldFillWithOtherBytesAreRefused(int elements, int entryFloats, int offset, int[] size, int[] stride, string said)
    {
        using var folder = TinyCheckpoints.NewFolder();
        var path = WriteTensorBin(folder, elements, entryFloats, offset, size, stride);
        var error = Assert.Throws<InvalidDataException>(() => RestrictedUnpickler.ReadStateDict(path));
        Assert.Contains(said, error.Message);
        Assert.Contains(path, error.Message);
    }
}
