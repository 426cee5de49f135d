using ActScale.Model;
using ActScale.Tasks;
using static TorchSharp.torch;

namespace ActScale.Localization;

/// <summary>Clean and corrupted prompts tokenized side by side, [prompts, length] each, with the answers' first tokens.</summary>
internal sealed class PatchInputs
{
    private PatchInputs(Tensor clean, Tensor corrupt, Tensor correct, Tensor wrong, Tensor lastIndex, string[] labels, int count, int length) =>
        (Clean, Corrupt, CorrectIds, WrongIds, LastIndex, TokenLabels, Count, Length) = (clean, corrupt, correct, wrong, lastIndex, labels, count, length);

    public Tensor Clean { get; }
    public Tensor Corrupt { get; }
    public Tensor CorrectIds { get; }
    public Tensor WrongIds { get; }
    public Tensor LastIndex { get; }
    public string[] TokenLabels { get; }
    public int Count { get; }
    public int Length { get; }

    /// <summary>Refuses prompts without a corrupted twin, twins of another token count and prompts of several lengths, saying what to change.</summary>
    public static PatchInputs From(LanguageModel model, IReadOnlyList<PromptExample> examples)
    {
        if (examples.Count == 0) throw new TaskDataException("There are no prompts to patch.");
        var missing = examples.Count(e => e.Corrupt is null);
        if (missing > 0)
            throw new TaskDataException($"{missing} of {examples.Count} prompts have no corrupted version. Activation patching needs a \"corrupt\" field " +
                                        "in every line of the task file (the prompt with its answer-relevant word swapped, same token count); " +
                                        "the built-in ccc and ioi tasks write one.");
        var clean = examples.Select(e => model.Tokenizer.Encode(e.Prompt)).ToArray();
        var corrupt = examples.Select(e => model.Tokenizer.Encode(e.Corrupt!)).ToArray();
        PromptLayoutRule.Check("Activation patching", null, clean.Select(c => c.Length), "the prompts");
        for (int i = 0; i < examples.Count; i++)
            if (corrupt[i].Length != clean[i].Length)
                throw new TaskDataException($"The corrupted prompt \"{examples[i].Corrupt}\" has {corrupt[i].Length} tokens but its prompt \"{examples[i].Prompt}\" has " +
                                            $"{clean[i].Length}; swap a word for one of the same token count so positions line up.");
        int length = clean[0].Length;
        Tensor Ids(int[][] rows) => tensor(rows.SelectMany(r => r.Select(i => (long)i)).ToArray(), [rows.Length, length], device: model.Device);
        Tensor Answers(Func<PromptExample, string> answer) =>
            tensor(examples.Select(e => (long)model.Tokenizer.EncodeContinuation(answer(e))[0]).ToArray(), device: model.Device);
        return new PatchInputs(Ids(clean), Ids(corrupt), Answers(e => e.Correct), Answers(e => e.Wrong),
            full([examples.Count], length - 1, ScalarType.Int64, model.Device), clean[0].Select(model.Tokenizer.TokenText).ToArray(), examples.Count, length);
    }
}
