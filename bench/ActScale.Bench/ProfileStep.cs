using System.Diagnostics;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Model;
using ActScale.Objective;
using ActScale.Tasks;
using ActScale.Training;
using static TorchSharp.torch;

namespace ActScale.Bench;

/// <summary>
/// `profile-step [--shape default] [--batch 16] [--length 16] [--steps 40]`: where one ActivScalar training step spends
/// its time. It times the whole step through <see cref="Trainer"/>, then the step's phases one by one (each run alone,
/// so the phases need not add up to the step exactly): the forward with hooks, the unembedding, the loss terms, the
/// backward, Adam, and the clean reference the faithfulness term compares with. CPU ops run synchronously, so a stopwatch suffices.
/// </summary>
public static class ProfileStep
{
    public static int Run(string[] args, string repoRoot)
    {
        string Get(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        string shape = Get("--shape", "default");
        int batch = int.Parse(Get("--batch", "16")), length = int.Parse(Get("--length", "16")), steps = int.Parse(Get("--steps", "40"));
        set_num_threads(int.Parse(Get("--threads", "1")));
        var tokenizer = Path.Combine(repoRoot, "data", "tokenizers", "gpt2");
        string folder = shape == "default" ? ModelLocator.DefaultModelFolder()
            : RandomGpt2.Folder(shape, RandomGpt2.Shapes[shape].Layers, RandomGpt2.Shapes[shape].Width, RandomGpt2.Shapes[shape].Heads, tokenizer);
        using var model = LanguageModel.Load(folder, "cpu");
        var examples = SyntheticPrompts.Make(model, batch, length);
        using var task = PreparedTask.Prepare(model, examples, samePromptLength: true, batchSize: batch);
        var options = new TrainingOptions { BatchSize = batch, Steps = steps, ReportEvery = steps };
        Trainer.Train(model, task, options with { Steps = 3 }).Dispose();
        using (var run = Trainer.Train(model, task, options))
            Console.WriteLine($"{shape} batch {batch}x{length}: Trainer step {run.TrainingTime.TotalMilliseconds / steps:F2} ms (mean of {steps})");

        var split = task.Train;
        var layout = InterventionLayout.For(options.SiteKinds, model.Config, task.PromptLength, options.FirstPosition);
        using var intervention = Intervention.Create(options.Method, layout, model.Device);
        using var optimizer = optim.Adam([intervention.Parameters], 0.01);
        using var rows = arange(batch, dtype: ScalarType.Int64);
        using var both = cat([rows, rows]);
        using var beta = cat([ones(batch), -ones(batch)]).view(-1, 1, 1);
        using var ids = split.Ids.index_select(0, both);
        using var last = split.LastIndex.index_select(0, both);
        using var correct = split.Correct.index_select(0, both);
        using var wrong = split.Wrong.index_select(0, both);
        var hooks = new HookSet();
        using var attached = intervention.Attach(hooks, beta);
        using var cleanRows = CleanReference.Of(model.Transformer, split, rows, batch);
        using var clean = cleanRows.Doubled();
        var transformer = model.Transformer;

        void Phase(string name, Action<Stopwatch> body)
        {
            body(new Stopwatch());
            var times = new double[steps];
            for (int i = 0; i < steps; i++)
            {
                var watch = new Stopwatch();
                body(watch);
                times[i] = watch.Elapsed.TotalMilliseconds;
            }
            // The minimum is what the code costs; the median adds what a busy shared machine took from it.
            Console.WriteLine($"  {name,-40} min {times.Min(),7:F2} ms  median {Measure.Median(times),7:F2} ms");
        }
        Phase("forward with hooks, last position", w =>
        {
            using var scope = NewDisposeScope();
            w.Start(); transformer.LastHidden(ids, last, hooks); w.Stop();
        });
        Phase("forward without hooks, no grad", w =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            w.Start(); transformer.LastHidden(ids, last); w.Stop();
        });
        Phase("full-sequence forward with hooks", w =>
        {
            using var scope = NewDisposeScope();
            w.Start(); transformer.Hidden(ids, hooks); w.Stop();
        });
        Phase("unembedding (last position)", w =>
        {
            using var scope = NewDisposeScope();
            var hidden = transformer.LastHidden(ids, last, hooks);
            w.Start(); transformer.Unembed(hidden); w.Stop();
        });
        Phase("loss terms on given hidden states", w =>
        {
            using var scope = NewDisposeScope();
            var hidden = transformer.LastHidden(ids, last, hooks);
            w.Start(); Loss(hidden); w.Stop();
        });
        Phase("backward", w =>
        {
            using var scope = NewDisposeScope();
            var hidden = transformer.LastHidden(ids, last, hooks);
            var loss = Loss(hidden);
            optimizer.zero_grad();
            w.Start(); loss.backward(); w.Stop();
        });
        Phase("  of which the vocabulary side", w =>
        {
            using var scope = NewDisposeScope();
            var hidden = transformer.LastHidden(ids, last, hooks).detach().requires_grad_();
            var loss = Loss(hidden);
            w.Start(); loss.backward(); w.Stop();
        });
        Phase("Adam step", w =>
        {
            using var scope = NewDisposeScope();
            w.Start(); optimizer.step(); w.Stop();
        });
        Phase("clean reference of one minibatch", w =>
        {
            using var scope = NewDisposeScope();
            w.Start(); CleanReference.Of(transformer, split, rows, batch).Dispose(); w.Stop();
        });
        return 0;

        Tensor Loss(Tensor hidden)
        {
            var (logitDifference, faithfulness) = ObjectiveFunction.RowTerms(transformer, hidden, correct, wrong, clean);
            return Losses.Effectiveness(logitDifference, beta.view(-1), 1.0) + faithfulness.mean() + 1e-3 * Losses.Minimality(intervention.Parameters, L1Reduction.Sum);
        }
    }
}
