using ActScale.Hooks;
using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Generation;

/// <summary>
/// How to pick each next token. Temperature 0 is greedy (argmax); above 0 the logits are divided by it and sampled,
/// first restricted to the <see cref="TopK"/> most likely tokens and then to the smallest set whose probability
/// reaches <see cref="TopP"/>. The same <see cref="Seed"/> draws the same tokens.
/// </summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 20;
    public double Temperature { get; init; }
    public int? TopK { get; init; }
    public double? TopP { get; init; }
    public long Seed { get; init; } = 0;
    /// <summary>A row stops after emitting this token (it is kept in the output).</summary>
    public int? StopToken { get; init; }

    /// <summary>Throws with what to change when an option is out of range.</summary>
    public void Check()
    {
        if (MaxTokens < 1) throw new ArgumentException($"The number of tokens to generate must be at least 1; got {MaxTokens}.");
        if (Temperature < 0 || double.IsNaN(Temperature)) throw new ArgumentException($"The temperature must be 0 (greedy) or positive; got {Temperature}.");
        if (TopK is < 1) throw new ArgumentException($"Top-k must be at least 1; got {TopK}.");
        if (TopP is not null && !(TopP > 0 && TopP <= 1)) throw new ArgumentException($"Top-p must be in (0, 1]; got {TopP}.");
    }
}

/// <summary>The continuation of each prompt: its new token ids and the logits each was chosen from ([vocab] per step).</summary>
public sealed record Continuation(int[] Tokens, IReadOnlyList<float[]> StepLogits);

/// <summary>
/// Autoregressive generation with a <see cref="KeyValueCache"/>: the prompts go through the model once, then one token
/// per row per step. Prompts of different lengths are left-padded; the cache gives every row its own positions and
/// masks the padding, so a row continues exactly as it would alone.
/// </summary>
public static class TextGenerator
{
    /// <summary>
    /// Continues every prompt in <paramref name="prompts"/> (token ids). <paramref name="promptHooks"/> apply to the
    /// forward pass over the prompts, <paramref name="stepHooks"/> to each generated token's pass (pass the same set for
    /// an intervention that acts at every position, only <paramref name="promptHooks"/> for one tied to prompt positions).
    /// </summary>
    public static IReadOnlyList<Continuation> Generate(TransformerModel model, IReadOnlyList<int[]> prompts, GenerationOptions options,
        HookSet? promptHooks = null, HookSet? stepHooks = null)
    {
        options.Check();
        if (prompts.Count == 0) throw new ArgumentException("Give at least one prompt.");
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("A prompt is empty; every prompt needs at least one token.");
        int rows = prompts.Count, longest = prompts.Max(p => p.Length);
        var tokens = Enumerable.Range(0, rows).Select(_ => new List<int>()).ToArray();
        var logits = Enumerable.Range(0, rows).Select(_ => new List<float[]>()).ToArray();
        var stopped = new bool[rows];
        using var noGrad = no_grad();
        using var cache = model.NewCache();
        using var random = new TorchSharp.torch.Generator((ulong)options.Seed, model.Device);

        var (ids, real) = LeftPadded(prompts, longest, model.Device);
        for (int step = 0; step < options.MaxTokens && !stopped.All(s => s); step++)
        {
            using var scope = NewDisposeScope();
            var last = model.Logits(ids, step == 0 ? promptHooks : stepHooks, cache, real)[.., -1].to_type(ScalarType.Float32);
            var next = Pick(last, options, random);
            var chosen = next.cpu().data<long>().ToArray();
            var rowsLogits = last.cpu();
            for (int r = 0; r < rows; r++)
            {
                if (stopped[r]) continue;
                tokens[r].Add((int)chosen[r]);
                logits[r].Add(rowsLogits[r].data<float>().ToArray());
                stopped[r] = chosen[r] == options.StopToken;
            }
            ids.Dispose();
            real.Dispose();
            ids = next.unsqueeze(1).DetachFromDisposeScope();
            real = ones([rows, 1], ScalarType.Bool, model.Device).DetachFromDisposeScope();
        }
        ids.Dispose();
        real.Dispose();
        return Enumerable.Range(0, rows).Select(r => new Continuation(tokens[r].ToArray(), logits[r])).ToArray();
    }

    /// <summary>Ids [rows, longest] with each prompt at the right end, and the mask of real tokens.</summary>
    private static (Tensor Ids, Tensor Real) LeftPadded(IReadOnlyList<int[]> prompts, int longest, Device device)
    {
        var ids = new long[prompts.Count * longest];
        var real = new bool[ids.Length];
        for (int r = 0; r < prompts.Count; r++)
            for (int i = 0; i < prompts[r].Length; i++)
            {
                int at = r * longest + longest - prompts[r].Length + i;
                ids[at] = prompts[r][i];
                real[at] = true;
            }
        return (tensor(ids, [prompts.Count, longest], device: device), tensor(real, [prompts.Count, longest], device: device));
    }

    /// <summary>One next token per row of <paramref name="logits"/> [rows, vocab].</summary>
    private static Tensor Pick(Tensor logits, GenerationOptions options, TorchSharp.torch.Generator random)
    {
        if (options.Temperature == 0) return logits.argmax(-1);
        var scaled = logits / options.Temperature;
        if (options.TopK is int k && k < scaled.shape[1])
        {
            var (largest, _) = scaled.topk(k);
            var kth = largest.narrow(1, k - 1, 1);
            scaled = scaled.masked_fill(scaled.lt(kth), double.NegativeInfinity);
        }
        if (options.TopP is double p && p < 1)
        {
            var (sorted, order) = scaled.sort(-1, descending: true);
            var before = sorted.softmax(-1).cumsum(-1) - sorted.softmax(-1);
            // Keep a token while the more likely ones have not yet reached p; the most likely always stays.
            var dropSorted = before.ge(p);
            var drop = zeros_like(dropSorted).scatter(-1, order, dropSorted);
            scaled = scaled.masked_fill(drop, double.NegativeInfinity);
        }
        return scaled.softmax(-1).multinomial(1, generator: random).squeeze(1);
    }
}
