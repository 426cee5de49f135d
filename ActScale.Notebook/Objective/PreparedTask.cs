using ActScale.Interventions;
using ActScale.Model;
using ActScale.Runtime;
using ActScale.Tasks;
using static TorchSharp.torch;

namespace ActScale.Objective;

/// <summary>
/// One split of a task, tokenized for one model: right-padded ids, each prompt's last real position, answer ids and
/// the clean model's logit difference. The clean distribution the faithfulness term compares with ([vocab] floats per
/// prompt, 200 KB for a 50k vocabulary: 20 GB for 100k prompts) is not stored: <see cref="CleanLogProbs(Tensor)"/>
/// recomputes it for the rows an evaluation batch uses, in one forward pass without gradients, so a split holds
/// O(prompts × tokens) memory. Trainings, single or batched, need less of it and keep a <see cref="CleanReference"/>
/// (width + 1 floats per prompt) instead. All tensors live on the model's device.
/// </summary>
public sealed class PreparedSplit : IDisposable
{
    private readonly TransformerModel _model;

    internal PreparedSplit(string name, IReadOnlyList<PromptExample> examples, int[][] tokens, TransformerModel model, Tensor ids, Tensor lastIndex,
        Tensor correct, Tensor wrong, Tensor cleanLogitDifference)
    {
        // The split owns its tensors for its lifetime: no caller's dispose scope may free them.
        Name = name; Examples = examples; Tokens = tokens; _model = model; Ids = ids.DetachFromDisposeScope(); LastIndex = lastIndex.DetachFromDisposeScope();
        Correct = correct.DetachFromDisposeScope(); Wrong = wrong.DetachFromDisposeScope();
        CleanLogitDifference = cleanLogitDifference.DetachFromDisposeScope();
    }

    public string Name { get; }
    public IReadOnlyList<PromptExample> Examples { get; }
    public int Count => Examples.Count;
    /// <summary>Token ids per prompt (unpadded).</summary>
    public IReadOnlyList<int[]> Tokens { get; }
    /// <summary>[N, longest] token ids, right-padded with 0.</summary>
    public Tensor Ids { get; }
    /// <summary>[N] index of each prompt's last real token.</summary>
    public Tensor LastIndex { get; }
    public Tensor Correct { get; }
    public Tensor Wrong { get; }
    /// <summary>[N] clean logit(correct) − logit(wrong).</summary>
    public Tensor CleanLogitDifference { get; }

    /// <summary>[rows, vocab] clean log-probabilities without the two answer tokens, renormalised, for <paramref name="rows"/> [rows] int64.</summary>
    public Tensor CleanLogProbs(Tensor rows)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var correct = Correct.index_select(0, rows);
        var wrong = Wrong.index_select(0, rows);
        var logits = LastToken.Logits(_model, Ids.index_select(0, rows), LastIndex.index_select(0, rows));
        return Losses.AnswerlessLogProbs(logits, correct, wrong).MoveToOuterDisposeScope();
    }

    /// <summary>As <see cref="CleanLogProbs(Tensor)"/> for the <paramref name="count"/> rows from <paramref name="start"/>.</summary>
    public Tensor CleanLogProbs(long start, long count)
    {
        using var scope = NewDisposeScope();
        return CleanLogProbs(arange(start, start + count, dtype: ScalarType.Int64, device: Ids.device)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in new[] { Ids, LastIndex, Correct, Wrong, CleanLogitDifference }) t.Dispose();
    }
}

/// <summary>
/// A validated task ready for training and evaluation on one model: every split (train, test, ...) prepared once.
/// <see cref="PromptLength"/> is set when every prompt has one length (required for the positional methods).
/// </summary>
public sealed class PreparedTask : IDisposable
{
    private PreparedTask(string modelIdentity, Dictionary<string, PreparedSplit> splits, int? promptLength, string[] tokenLabels)
    {
        ModelIdentity = modelIdentity; Splits = splits; PromptLength = promptLength; TokenLabels = tokenLabels;
    }

    public string ModelIdentity { get; }
    public IReadOnlyDictionary<string, PreparedSplit> Splits { get; }
    public int? PromptLength { get; }
    /// <summary>Token strings of the first train prompt: the position labels of heatmaps.</summary>
    public string[] TokenLabels { get; }

    public PreparedSplit Train => Split(PromptExample.Train);

    public PreparedSplit Split(string name) => Splits.TryGetValue(name, out var s) ? s
        : throw new TaskDataException($"The task has no \"{name}\" split; it has {string.Join(", ", Splits.Keys.Select(k => $"\"{k}\""))}.");

    /// <summary>
    /// Prepares <paramref name="examples"/> to train <paramref name="method"/>: a positional method keeps only the prompts
    /// of the commonest token layout (<see cref="TaskValidator.KeepOneLayout"/>), and the note says what was dropped (null if nothing).
    /// </summary>
    public static (PreparedTask Task, string? Note) PrepareFor(LanguageModel model, IReadOnlyList<PromptExample> examples, InterventionMethod method)
    {
        string? note = null;
        if (method.IsPositional && examples.Select(e => PromptLayout.Of(e, model.Tokenizer)).Distinct().Count() > 1)
        {
            var (kept, dropped) = TaskValidator.KeepOneLayout(examples, model.Tokenizer);
            (examples, note) = (kept, $"{method} needs one token layout: {dropped}.");
        }
        return (Prepare(model, examples, method.IsPositional, method.Name), note);
    }

    /// <summary>
    /// Validates (see <see cref="TaskValidator.Validate"/>) and prepares <paramref name="examples"/> for <paramref name="model"/>.
    /// <paramref name="samePromptLength"/>: require one prompt length (true for ActivScalar and SteerVec).
    /// </summary>
    public static PreparedTask Prepare(LanguageModel model, IReadOnlyList<PromptExample> examples, bool samePromptLength,
        string methodName = "this method", int batchSize = 32, bool requireTrain = true)
    {
        TaskValidator.Validate(examples, model.Tokenizer, model.Config.ContextLength, samePromptLength, methodName,
            requireTrain ? [PromptExample.Train] : []);
        var splits = new Dictionary<string, PreparedSplit>();
        try
        {
            foreach (var group in examples.GroupBy(e => e.Split))
                splits[group.Key] = PrepareSplit(model, group.Key, group.ToArray(), batchSize);
        }
        catch (Exception e)
        {
            foreach (var s in splits.Values) s.Dispose();
            if (DeviceMemory.IsOutOfMemory(e)) throw PreparingOutOfMemory(model, examples, e);
            throw;
        }
        var lengths = splits.Values.SelectMany(s => s.Tokens).Select(t => t.Length).Distinct().ToArray();
        var first = splits.TryGetValue(PromptExample.Train, out var train) ? train : splits.Values.First();
        var labels = first.Tokens[0].Select(model.Tokenizer.TokenText).ToArray();
        return new PreparedTask(model.Identity, splits, lengths.Length == 1 ? lengths[0] : null, labels);
    }

    /// <summary>Preparing holds every prompt's padded ids: the message names that, not the batch size, as the cause.</summary>
    private static DeviceOutOfMemoryException PreparingOutOfMemory(LanguageModel model, IReadOnlyList<PromptExample> examples, Exception e)
    {
        int longest = examples.Max(x => model.Tokenizer.Encode(x.Prompt).Length);
        double megabytes = examples.Count * (double)longest * sizeof(long) / 1e6;
        return new DeviceOutOfMemoryException(
            $"Preparing {examples.Count} prompts ran out of memory on {model.Device}: their token ids, padded to the longest prompt " +
            $"({longest} tokens), take {megabytes:F0} MB there. Use fewer prompts (--train/--test), or drop the longest ones. " +
            $"The model and earlier runs are unchanged. (libtorch: {e.Message.Split('\n')[0].Trim()})", examples.Count, e);
    }

    private static PreparedSplit PrepareSplit(LanguageModel model, string name, PromptExample[] examples, int batchSize)
    {
        var tokens = examples.Select(e => model.Tokenizer.Encode(e.Prompt)).ToArray();
        int longest = tokens.Max(t => t.Length);
        var flat = new long[examples.Length * longest];
        for (int i = 0; i < tokens.Length; i++)
            for (int j = 0; j < tokens[i].Length; j++) flat[i * longest + j] = tokens[i][j];
        var device = model.Device;
        var ids = tensor(flat, [examples.Length, longest], device: device);
        var last = tensor(tokens.Select(t => (long)t.Length - 1).ToArray(), device: device);
        var correct = tensor(examples.Select(e => (long)model.Tokenizer.EncodeContinuation(e.Correct)[0]).ToArray(), device: device);
        var wrong = tensor(examples.Select(e => (long)model.Tokenizer.EncodeContinuation(e.Wrong)[0]).ToArray(), device: device);
        // Written in place, batch by batch: no small result outlives a batch's large logits, so the freed logits
        // return to the allocator as whole blocks instead of leaving a fragmented heap behind (measured: 810 MB for 100k prompts).
        var cleanDifference = empty(examples.Length, dtype: ScalarType.Float32, device: device);
        using (no_grad())
        {
            for (int start = 0; start < examples.Length; start += batchSize)
            {
                int n = Math.Min(batchSize, examples.Length - start);
                using var scope = NewDisposeScope();
                var logits = LastToken.Logits(model.Transformer, ids.narrow(0, start, n), last.narrow(0, start, n));
                cleanDifference.narrow(0, start, n).copy_(Losses.LogitDifference(logits, correct.narrow(0, start, n), wrong.narrow(0, start, n)));
            }
        }
        return new PreparedSplit(name, examples, tokens, model.Transformer, ids, last, correct, wrong, cleanDifference);
    }

    public void Dispose()
    {
        foreach (var s in Splits.Values) s.Dispose();
    }
}
