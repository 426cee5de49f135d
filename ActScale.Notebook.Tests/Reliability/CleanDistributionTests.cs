using ActScale.Interventions;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Tests.Support;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Tests.Reliability;

/// <summary>
/// A prepared task keeps no per-prompt vocabulary-sized cache: the clean distribution the faithfulness term needs is
/// recomputed per minibatch, and the loss is the one the stored cache gave.
/// </summary>
public sealed class CleanDistributionTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void Loss_equals_the_loss_over_a_stored_clean_distribution()
    {
        var model = fixture.Model;
        using var task = PreparedTask.Prepare(model, TinyModelFixture.SameLengthTask(), samePromptLength: true);
        var split = task.Train;
        using var intervention = Intervention.Create(InterventionMethod.ActivScalar,
            new InterventionLayout(TrainingOptions.DefaultSiteKinds, model.Config.LayerCount, model.Config.Width, task.PromptLength), model.Device);
        using (no_grad())
        {
            manual_seed(3);
            intervention.Parameters.copy_(randn_like(intervention.Parameters) * 0.5f);
        }
        var settings = new LossSettings();

        var terms = ObjectiveFunction.Evaluate(model, intervention, split, settings);

        // The former design: every prompt's clean answerless log-probabilities computed once, in one batch, and kept.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var stored = Losses.AnswerlessLogProbs(LastToken.Logits(model.Transformer, split.Ids, split.LastIndex), split.Correct, split.Wrong);
        var both = cat([arange(split.Count), arange(split.Count)]);
        var beta = cat([ones(split.Count), -ones(split.Count)]);
        var hooks = new ActScale.Hooks.HookSet();
        using var attached = intervention.Attach(hooks, beta.view(-1, 1, 1));
        var logits = LastToken.Logits(model.Transformer, split.Ids.index_select(0, both), split.LastIndex.index_select(0, both), hooks);
        double expected = Losses.Faithfulness(stored.index_select(0, both), logits, split.Correct.index_select(0, both), split.Wrong.index_select(0, both)).item<float>();

        Assert.True(expected > 1e-4, $"the check needs a non-trivial KL; got {expected}");
        Assert.Equal(expected, terms.Faithfulness, 1e-6);
    }

    [Fact]
    public void A_split_holds_memory_linear_in_its_tokens_not_in_the_vocabulary()
    {
        var model = fixture.Model;
        foreach (int count in new[] { 100, 1000 })
        {
            var prompts = Enumerable.Range(0, count).Select(i => TinyModelFixture.SameLengthTask()[i % 6]).ToArray();
            using var task = PreparedTask.Prepare(model, prompts, samePromptLength: true);
            var split = task.Train;
            // Every tensor the split holds, found by reflection so a cache added later is counted too.
            long bytes = typeof(PreparedSplit).GetProperties().Where(p => p.PropertyType == typeof(Tensor))
                .Select(p => (Tensor)p.GetValue(split)!).Sum(t => t.ElementSize * t.numel());
            long tokens = split.Ids.shape[1];
            // ids, last index and the two answers (int64) and one float per prompt: nothing of the vocabulary's size.
            Assert.Equal(count * (tokens * 8 + 3 * 8 + 4), bytes);
            Assert.True(model.Config.VocabularySize * 4 > tokens * 8 + 28, "the vocabulary must dwarf a prompt for this check to mean anything");
        }
    }
}
