using ActScale.Hooks;
using ActScale.Model;
using static TorchSharp.torch;

namespace ActScale.Objective;

/// <summary>One batch of a split's prompts run with the hooks as they are: last-position logits and the two answers.</summary>
public readonly record struct SplitBatch(PreparedSplit Split, int Start, int Count, Tensor Logits, Tensor Correct, Tensor Wrong)
{
    /// <summary>The clean model's answerless log-probabilities for these prompts (one extra forward, made on demand).</summary>
    public Tensor CleanLogProbs() => Split.CleanLogProbs(Start, Count);
}

/// <summary>The one loop every per-prompt measurement shares, so they batch, slice and free tensors the same way.</summary>
public static class SplitBatches
{
    /// <summary>
    /// Runs the split in batches of <paramref name="batchSize"/> and hands each to <paramref name="use"/> inside its own dispose
    /// scope (copy out what must outlive the batch). Gradients follow the caller's mode.
    /// </summary>
    public static void ForEach(TransformerModel model, PreparedSplit split, HookSet? hooks, int batchSize, Action<SplitBatch> use) =>
        ForEach(model, split, (_, _) => hooks, batchSize, use);

    /// <summary>The same, with hooks made for each batch from its first row and row count (for hooks that need the batch's prompts).</summary>
    public static void ForEach(TransformerModel model, PreparedSplit split, Func<int, int, HookSet?> hooksFor, int batchSize, Action<SplitBatch> use)
    {
        for (int start = 0; start < split.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, split.Count - start);
            using var scope = NewDisposeScope();
            var logits = LastToken.Logits(model, split.Ids.narrow(0, start, n), split.LastIndex.narrow(0, start, n), hooksFor(start, n));
            use(new SplitBatch(split, start, n, logits, split.Correct.narrow(0, start, n), split.Wrong.narrow(0, start, n)));
        }
    }
}
