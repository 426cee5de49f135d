using ActScale.Hooks;
using ActScale.Model;
using ActScale.Objective;
using static TorchSharp.torch;

namespace ActScale.Localization;

/// <summary>Per-prompt measures of one split under whatever hooks are attached: LD, p(correct), p(wrong), answerless KL.</summary>
public sealed record PromptMeasures(float[] LogitDifference, float[] PCorrect, float[] PWrong, float[] Kl)
{
    /// <summary>Runs the split's prompts in batches of <paramref name="batchSize"/> with <paramref name="hooks"/>.</summary>
    public static PromptMeasures Of(LanguageModel model, PreparedSplit split, HookSet? hooks, int batchSize = 32)
    {
        var columns = Enumerable.Range(0, 4).Select(_ => new List<float>()).ToArray();
        using var _ = no_grad();
        SplitBatches.ForEach(model.Transformer, split, hooks, batchSize, batch =>
        {
            var (logits, c, w) = (batch.Logits, batch.Correct, batch.Wrong);
            var p = logits.softmax(-1);
            var rows = stack([Losses.LogitDifference(logits, c, w), p.gather(1, c.unsqueeze(1)).squeeze(1), p.gather(1, w.unsqueeze(1)).squeeze(1),
                Losses.FaithfulnessPerPrompt(batch.CleanLogProbs(), logits, c, w)]).cpu();
            for (int m = 0; m < 4; m++) columns[m].AddRange(rows[m].data<float>().ToArray());
        });
        return new PromptMeasures(columns[0].ToArray(), columns[1].ToArray(), columns[2].ToArray(), columns[3].ToArray());
    }
}
