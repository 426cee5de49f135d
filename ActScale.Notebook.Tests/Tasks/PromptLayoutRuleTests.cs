using ActScale.Tasks;

namespace ActScale.Tests.Tasks;

/// <summary>The positional methods' one rule, stated in one message wherever it is broken.</summary>
public class PromptLayoutRuleTests
{
    [Fact]
    public void OneLengthFitsBeforeTrainingAndTheTrainingLengthAfter()
    {
        Assert.Null(PromptLayoutRule.Violation("ActivScalar", null, [7, 7, 7], "the task"));
        Assert.Null(PromptLayoutRule.Violation("ActivScalar", 7, [7, 7], "split 'test'"));
    }

    [Fact]
    public void TheMessageNamesTheLengthsTheTrainingLengthAndWhatToDo()
    {
        var mixed = PromptLayoutRule.Violation("SteerVec", null, [5, 7, 5], "the task");
        Assert.Equal("SteerVec ties its parameters to token positions, so every prompt must have one length, but the task has " +
                     "5 tokens (2 prompts), 7 tokens (1 prompts). Use DynScalar, which works for any length, or keep one layout with " +
                     "TaskValidator.KeepOneLayout(examples, tokenizer).", mixed);
        var other = PromptLayoutRule.Violation("ActivScalar", 12, [5], "this prompt");
        Assert.Contains("its training length of 12 tokens, but this prompt has 5 tokens.", other);
        Assert.Throws<TaskDataException>(() => PromptLayoutRule.Check("ActivScalar", 12, [5], "this prompt"));
    }
}
