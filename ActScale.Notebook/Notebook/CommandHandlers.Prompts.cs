using ActScale.Evaluation;
using ActScale.Objective;
using ActScale.Tasks;
using Microsoft.DotNet.Interactive;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

public sealed class ActScalePrompts : ActScaleCommand;

internal sealed partial class CommandHandlers
{
    /// <summary>
    /// Lists a run's result on each prompt of the loaded data, worst first, and shares every prompt of the listed splits
    /// as <c>promptResults</c> (a Deedle frame where Deedle loads, else the records), whatever --failed and --top hide.
    /// </summary>
    public async Task Prompts(ActScalePrompts command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var record = session.RequireRun<NotebookRun>(command.Get(RunName));
        var (failedOnly, top) = (command.Get(PromptsArgs.Failed), command.Get(PromptsArgs.Top));
        var (task, _) = session.RequireTask(record.Run.Method);
        var splits = RequireSplits(task, command.Get(PromptsArgs.Split) ?? HeldOutOrTrain(task));
        var results = await Task.Run(() => Checked(() => PromptResults.Measure(model, record.Run, task, splits)));
        context.Display(new ActScaleHtml(PromptTable.Html(record.Name, results, failedOnly, top)), "text/html");
        if (session.DeedleUsable()) await SharePromptFrameAsync(results);
        else await session.ShareAsync("promptResults", results, typeof(IReadOnlyList<PromptResult>));
    }

    private static string HeldOutOrTrain(PreparedTask task) => task.Splits.ContainsKey(PromptExample.Test) ? PromptExample.Test : PromptExample.Train;

    // Not inlined: Deedle's types are touched only once DeedleUsable has said they load.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private Task SharePromptFrameAsync(IReadOnlyList<PromptResult> results) =>
        session.ShareAsync("promptResults", PromptResults.ToFrame(results), typeof(Deedle.Frame<int, string>));
}
