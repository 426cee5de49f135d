using ActScale.Model;
using ActScale.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActScale.Tests.Model;

/// <summary>
/// A real pretrained Llama-architecture model (Karpathy's stories260K, in ../shared/models) against the golden
/// values of its README: logits, greedy decoding and its llama2.c tokenizer. Skipped where ../shared is absent.
/// </summary>
public class Stories260KTests(ITestOutputHelper output)
{
    internal static readonly int[] GreedyIds =
    [
        1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322,
        265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398,
        312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310,
    ];

    private static readonly double[] FirstLogits =
        [-6.222913912652849, 8.404341656898655, -6.223738866295619, -6.2225439780566125, -6.221953179599787, -6.222877497342169, -6.2218839516486995, -6.223419539053485];

    private static readonly double[] LastLogits =
        [-11.297535012276382, 0.5952321014735056, -11.296247769644628, -11.298812262934236, -11.298037847609182, -11.297863192526341, -11.29837093707352, -11.297807977905126];

    private static string Folder() => SharedModelFactAttribute.SharedModel("stories260K")!;

    [SharedModelFact("stories260K")]
    public void LogitsMatchGoldenValuesAndGreedyDecodingReproducesTheStory()
    {
        var folder = Folder();
        using var model = LanguageModel.Load(folder, "cpu");
        Assert.Equal("llama", model.Config.ModelType);
        Assert.Equal(4, model.Config.KeyValueHeadCount);

        using var all = tensor(GreedyIds.Select(i => (long)i).ToArray()).unsqueeze(0);
        using var logits = model.Transformer.Logits(all);
        // Causal: position 0 of the full sequence is the logits of input [1].
        var first = logits[0, 0].data<float>().ToArray();
        var last = logits[0, -1].data<float>().ToArray();
        double worst = 0;
        for (int i = 0; i < 8; i++)
            worst = Math.Max(worst, Math.Max(Math.Abs(first[i] - FirstLogits[i]), Math.Abs(last[i] - LastLogits[i])));
        output.WriteLine($"stories260K: max |logit - golden| over ids 0..7 at positions 0 and 64 = {worst:E2}");
        Assert.True(worst < 1e-4, $"largest difference from the golden logits {worst:E2}");

        // Greedy: each argmax of the teacher-forced sequence is the next golden id, and step-by-step decoding agrees.
        using var argmax = logits[0].argmax(-1);
        var predicted = argmax.data<long>().ToArray();
        for (int t = 0; t + 1 < GreedyIds.Length; t++) Assert.Equal(GreedyIds[t + 1], (int)predicted[t]);

        var generated = new List<long> { 1 };
        for (int step = 0; step < 64; step++)
        {
            using var ids = tensor(generated.ToArray()).unsqueeze(0);
            using var stepLogits = model.Transformer.Logits(ids);
            using var next = stepLogits[0, -1].argmax();
            generated.Add(next.item<long>());
        }
        Assert.Equal(GreedyIds.Select(i => (long)i), generated);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", model.Tokenizer.Decode(GreedyIds));
        Assert.EndsWith("but it was too high.\nLily", model.Tokenizer.Decode(GreedyIds));
    }

    [SharedModelFact("stories260K")]
    public void TokenizerReproducesLlama2cEncodings()
    {
        var folder = Folder();
        var tokenizer = TextTokenizer.FromFolder(folder);
        Assert.Equal(512, tokenizer.VocabularySize);
        Assert.Equal([1, 403, 407, 261, 378], tokenizer.Encode("Once upon a time"));
        Assert.Equal([1, 317, 439, 419, 357, 336, 432, 313, 440, 417, 443, 436, 13], tokenizer.Encode("Lily's mom said, \"Hi!\"\n"));
        Assert.Equal("Lily's mom said, \"Hi!\"\n", tokenizer.Decode(tokenizer.Encode("Lily's mom said, \"Hi!\"\n")));
        Assert.Equal(" Once", tokenizer.TokenText(403));
        Assert.Equal("<s>", tokenizer.TokenText(1));
        // Characters with no piece fall back to UTF-8 bytes and decode back.
        Assert.Equal("café ☃", tokenizer.Decode(tokenizer.Encode("café ☃")));
    }
}
