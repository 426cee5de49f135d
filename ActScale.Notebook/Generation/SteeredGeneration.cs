using ActScale.Hooks;
using ActScale.Model;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Generation;

/// <summary>One continuation at strength β (0 is the clean model) with the first token's probabilities of the two answers.</summary>
public sealed record SteeredContinuation(double Beta, string Text, int[] Tokens, double? PCorrect, double? PWrong)
{
    public bool IsClean => Beta == 0;
}

/// <summary>A prompt continued at several strengths of one run, the clean model first.</summary>
public sealed record SteeredGenerationResult(string RunName, string Prompt, string? Correct, string? Wrong, IReadOnlyList<SteeredContinuation> Continuations);

/// <summary>
/// Generation with a trained run attached. DynScalar acts at every position, the generated ones included (its scalars
/// are computed from each activation). The positional methods (ActivScalar, SteerVec) act at the prompt positions
/// they were trained on, so the prompt must have the training length, and leave generated positions alone.
/// All strengths run as one batch, one row per β.
/// </summary>
public static class SteeredGeneration
{
    /// <summary>
    /// Continues <paramref name="prompt"/> once per β in <paramref name="betas"/>, plus the clean model (β = 0) when not
    /// listed. <paramref name="correct"/> and <paramref name="wrong"/> (answer texts, e.g. " Paris") add the first
    /// token's probability of each.
    /// </summary>
    public static SteeredGenerationResult Generate(LanguageModel model, InterventionRun run, string prompt, IReadOnlyList<double> betas,
        GenerationOptions options, string? correct = null, string? wrong = null)
    {
        run.EnsureTrainedOn(model);
        var ids = model.Tokenizer.Encode(prompt);
        if (ids.Length == 0) throw new ArgumentException("The prompt is empty.");
        if (run.Method.IsPositional) PromptLayoutRule.Check(run.Method.Name, run.PromptLength, [ids.Length], $"\"{prompt}\"");
        var strengths = betas.Prepend(0.0).Distinct().ToArray();

        using var intervention = run.CreateIntervention(model.Device);
        using var betaRows = tensor(strengths.Select(b => (float)b).ToArray(), device: model.Device).view(-1, 1, 1);
        var promptHooks = new HookSet();
        var stepHooks = run.Method.IsPositional ? null : new HookSet();
        IReadOnlyList<Continuation> continued;
        using (intervention.Attach(promptHooks, betaRows))
        using (stepHooks is null ? null : intervention.AttachToGenerated(stepHooks, betaRows))
            continued = TextGenerator.Generate(model.Transformer, strengths.Select(_ => ids).ToArray(), options, promptHooks, stepHooks);

        int? correctId = correct is null ? null : AnswerToken(model, correct);
        int? wrongId = wrong is null ? null : AnswerToken(model, wrong);
        var rows = strengths.Select((beta, r) =>
        {
            var first = Softmax(continued[r].StepLogits[0]);
            return new SteeredContinuation(beta, model.Tokenizer.Decode(continued[r].Tokens), continued[r].Tokens,
                correctId is int c ? first[c] : null, wrongId is int w ? first[w] : null);
        }).ToArray();
        return new SteeredGenerationResult(run.Name, prompt, correct, wrong, rows);
    }

    /// <summary>The answer's first token as it follows a prompt, as training scores it.</summary>
    private static int AnswerToken(LanguageModel model, string answer) =>
        model.Tokenizer.EncodeContinuation(answer) is { Length: > 0 } ids ? ids[0]
            : throw new ArgumentException($"The answer \"{answer}\" has no tokens; give the answer text as it follows the prompt, e.g. \" Paris\".");

    private static double[] Softmax(float[] logits)
    {
        double max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = exp.Sum();
        return exp.Select(e => e / sum).ToArray();
    }
}
