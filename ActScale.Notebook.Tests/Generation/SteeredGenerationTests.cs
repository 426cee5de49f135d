using ActScale.Generation;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Tests.Support;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Tests.Generation;

/// <summary>
/// Steered generation's semantics against recomputing the whole sequence every step with the run's hook written out by
/// hand: positional runs change only the prompt positions, DynScalar every position, and β = 0 is the clean model.
/// </summary>
public class SteeredGenerationTests : IDisposable
{
    private readonly TinyCheckpoints.TempFolder _folder = TinyCheckpoints.NewFolder();
    private readonly LanguageModel _model;

    public SteeredGenerationTests() => _model = ModelFixtures.LoadTinyGpt2(_folder);

    public void Dispose()
    {
        _model.Dispose();
        _folder.Dispose();
    }

    private static readonly int[] Prompt = [464, 3139, 286, 4881, 318, 6342, 13];

    /// <summary>A run with random parameters large enough to change the greedy tokens.</summary>
    private InterventionRun RandomRun(InterventionMethod method)
    {
        var options = new TrainingOptions { Method = method, SiteKinds = [SiteKind.AttnOut, SiteKind.MlpOut] };
        var layout = new InterventionLayout(options.SiteKinds, _model.Config.LayerCount, _model.Config.Width, Prompt.Length);
        using var generator = new TorchSharp.torch.Generator(42);
        var values = randn(method.ParameterShape(method.IsPositional ? layout : layout with { PromptLength = null }), generator: generator) * 2;
        return new InterventionRun("random", options, _model.Identity, _model.Config.LayerCount, _model.Config.Width, Prompt.Length,
            Prompt.Select(i => i.ToString()).ToArray(), values);
    }

    /// <summary>Greedy tokens recomputing the full sequence, the run applied at β on the first <paramref name="steeredPositions"/> positions (all when null).</summary>
    private int[] Reference(InterventionRun run, double beta, int? steeredPositions, int steps)
    {
        using var intervention = run.CreateIntervention(_model.Device);
        using var strength = tensor((float)beta);
        var hooks = new HookSet();
        for (int s = 0; s < run.SiteKinds.Count; s++)
            for (int l = 0; l < run.LayerCount; l++)
            {
                int site = s, layer = l;
                hooks.Intervene(new Site(layer, run.SiteKinds[site]), h => steeredPositions is int n
                    ? cat([intervention.Apply(site, layer, h.narrow(1, 0, n), strength), h.narrow(1, n, h.shape[1] - n)], 1)
                    : intervention.Apply(site, layer, h, strength));
            }
        var sequence = Prompt.Select(i => (long)i).ToList();
        using var noGrad = no_grad();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            sequence.Add(_model.Transformer.Logits(tensor(sequence.ToArray()).unsqueeze(0), hooks)[0, -1].argmax().item<long>());
        }
        return sequence.Skip(Prompt.Length).Select(i => (int)i).ToArray();
    }

    [Fact]
    public void PositionalRunsSteerOnlyThePromptPositionsAndDynScalarEveryPosition()
    {
        const int steps = 6;
        var prompt = _model.Tokenizer.Decode(Prompt);
        Assert.Equal(Prompt, _model.Tokenizer.Encode(prompt));
        foreach (var method in new InterventionMethod[] { InterventionMethod.ActivScalar, InterventionMethod.SteerVec, InterventionMethod.DynScalar })
        {
            using var run = RandomRun(method);
            var result = SteeredGeneration.Generate(_model, run, prompt, [-1, 1], new GenerationOptions { MaxTokens = steps });
            Assert.Equal([0.0, -1, 1], result.Continuations.Select(c => c.Beta));
            int? steered = method.IsPositional ? Prompt.Length : null;
            var clean = TextGenerator.Generate(_model.Transformer, [Prompt], new GenerationOptions { MaxTokens = steps })[0].Tokens;
            Assert.Equal(clean, result.Continuations[0].Tokens);
            Assert.Equal(Reference(run, -1, steered, steps), result.Continuations[1].Tokens);
            Assert.Equal(Reference(run, 1, steered, steps), result.Continuations[2].Tokens);
            Assert.NotEqual(clean, result.Continuations[2].Tokens);
        }
    }

    [Fact]
    public void AnswerProbabilitiesAreTheFirstStepsSoftmax()
    {
        using var run = RandomRun(InterventionMethod.ActivScalar);
        var result = SteeredGeneration.Generate(_model, run, _model.Tokenizer.Decode(Prompt), [1], new GenerationOptions { MaxTokens = 1 }, " Paris", " Rome");
        using var logits = _model.Transformer.Logits(tensor(Prompt.Select(i => (long)i).ToArray()).unsqueeze(0))[0, -1].softmax(0);
        Assert.Equal(logits[_model.Tokenizer.EncodeContinuation(" Paris")[0]].item<float>(), result.Continuations[0].PCorrect!.Value, 5);
        Assert.Equal(logits[_model.Tokenizer.EncodeContinuation(" Rome")[0]].item<float>(), result.Continuations[0].PWrong!.Value, 5);
        Assert.NotEqual(result.Continuations[0].PCorrect, result.Continuations[1].PCorrect);
    }
}
