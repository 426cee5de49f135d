using ActScale.Hooks;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Evaluation;

/// <summary>One candidate next token with its probability and logit.</summary>
public sealed record TokenProbability(string Token, int Id, double Probability, double Logit);

/// <summary>The top next tokens of a prompt without and with an intervention at strength β.</summary>
public sealed record TopTokensComparison(string Prompt, double Beta, IReadOnlyList<TokenProbability> Before, IReadOnlyList<TokenProbability> After);

/// <summary>Applies a trained run to new prompts.</summary>
public static class Reapply
{
    /// <summary>
    /// Top-<paramref name="k"/> next tokens of <paramref name="prompt"/> for the clean model and with the run at
    /// <paramref name="beta"/>. Positional runs need a prompt of their training length (the error names both lengths).
    /// </summary>
    public static TopTokensComparison TopTokens(LanguageModel model, InterventionRun run, string prompt, int k = 10, double beta = 1.0)
    {
        run.EnsureTrainedOn(model);
        var ids = model.Tokenizer.Encode(prompt);
        if (ids.Length == 0) throw new ArgumentException("The prompt is empty.");
        if (run.Method.IsPositional) PromptLayoutRule.Check(run.Method.Name, run.PromptLength, [ids.Length], $"\"{prompt}\"");
        var before = TopTokens(model, prompt, k);
        using var intervention = run.CreateIntervention(model.Device);
        var hooks = new HookSet();
        using (intervention.Attach(hooks, beta))
            return new TopTokensComparison(prompt, beta, before, TopTokens(model, prompt, k, hooks));
    }

    /// <summary>Top-<paramref name="k"/> next tokens of <paramref name="prompt"/>, with <paramref name="hooks"/> applied when given.</summary>
    public static IReadOnlyList<TokenProbability> TopTokens(LanguageModel model, string prompt, int k, HookSet? hooks = null)
    {
        var ids = model.Tokenizer.Encode(prompt);
        if (ids.Length == 0) throw new ArgumentException("The prompt is empty.");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var input = tensor(ids.Select(i => (long)i).ToArray(), device: model.Device).unsqueeze(0);
        var last = tensor(new long[] { ids.Length - 1 }, device: model.Device);
        return Top(model, LastToken.Logits(model.Transformer, input, last, hooks), k);
    }

    /// <summary>The <paramref name="k"/> most likely tokens of one row of last-position logits [1, vocab].</summary>
    private static IReadOnlyList<TokenProbability> Top(LanguageModel model, Tensor logits, int k)
    {
        using var scope = NewDisposeScope();
        var row = logits[0].cpu();
        var (values, indices) = row.softmax(0).topk(Math.Min(k, (int)row.shape[0]));
        var p = values.data<float>().ToArray();
        var id = indices.data<long>().ToArray();
        var logit = row.data<float>();
        return Enumerable.Range(0, p.Length)
            .Select(i => new TokenProbability(model.Tokenizer.TokenText((int)id[i]), (int)id[i], p[i], logit[id[i]])).ToArray();
    }
}
