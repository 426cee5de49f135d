using System.Globalization;
using System.Net;
using ActScale.Hooks;
using ActScale.Interventions;
using ActScale.Localization;
using ActScale.Tasks;
using Microsoft.DotNet.Interactive;
using static ActScale.Notebook.CommandCatalog;

namespace ActScale.Notebook;

internal sealed partial class CommandHandlers
{
    /// <summary>The session's patching maps by name, in the order made.</summary>
    private readonly List<PatchingMap> _patches = new();

    public async Task Patch(ActScalePatch command, KernelInvocationContext context)
    {
        var model = session.RequireModel();
        var kinds = TrainingOptionsReader.ReadSites(command.Get(TrainingArgs.Sites));
        var direction = PatchArgs.Directions[command.Get(PatchArgs.Direction)];
        var name = command.Get(PatchArgs.Name) ?? "patch";
        // The prompts ActivScalar trains on: one length, so the map's positions are the run's.
        var (task, _) = session.RequireTask(InterventionMethod.ActivScalar);
        var split = RequireSplits(task, command.Get(PatchArgs.Split) ?? PromptExample.Train)[0];
        // Prompts whose word could not be swapped at the same token count have no twin; with none at all the library says what is missing.
        var all = task.Split(split).Examples;
        var twinned = all.Where(e => e.Corrupt is not null).ToArray();
        var examples = (twinned.Length > 0 ? twinned : all).Take(command.Get(PatchArgs.Prompts)).ToArray();
        if (kinds.Contains(SiteKind.AttnHead))
        {
            await PatchHeads(model, examples, kinds, direction, name, context);
            return;
        }
        var map = await Task.Run(() => Checked(() => ActivationPatching.Patch(model, examples, kinds, direction, name)));
        _patches.RemoveAll(p => p.Name == name);
        _patches.Add(map);
        context.Display(ActScaleCharts.Heatmap(map.Heatmap()), "text/html");
        var inv = CultureInfo.InvariantCulture;
        context.Display(new ActScaleHtml($"<div class=\"actscale-patch\">{map.Prompts} {split} prompts: mean LD clean {map.CleanLogitDifference.ToString("F3", inv)}, " +
                                         $"corrupted {map.CorruptLogitDifference.ToString("F3", inv)}. Map <b>{WebUtility.HtmlEncode(name)}</b>; compare it with " +
                                         $"<code>#!actscale compare-maps RUN --patch {WebUtility.HtmlEncode(name)}</code>.</div>"), "text/html");
        await session.ShareAsync(name, map, typeof(PatchingMap));
    }

    /// <summary>The layer × head map, with the heads that matter most named.</summary>
    private async Task PatchHeads(ActScale.Model.LanguageModel model, IReadOnlyList<PromptExample> examples, IReadOnlyList<SiteKind> kinds,
        PatchDirection direction, string name, KernelInvocationContext context)
    {
        if (kinds.Count > 1) throw new UsageException("--sites attn_head patches one head at a time over all positions; give it alone (e.g. --sites attn_head).");
        var map = await Task.Run(() => Checked(() => ActivationPatching.PatchHeads(model, examples, direction, name)));
        context.Display(ActScaleCharts.Heatmap(map.Heatmap()), "text/html");
        var inv = CultureInfo.InvariantCulture;
        var top = string.Join(", ", map.Ranked().Take(5).Select(x => $"L{x.Layer}.H{x.Head} ({Math.Round(x.Recovered, 2).ToString("+0.00;−0.00;0.00", inv)})"));
        context.Display(new ActScaleHtml($"<div class=\"actscale-patch\">{map.Prompts} prompts: mean LD clean {map.CleanLogitDifference.ToString("F3", inv)}, " +
                                         $"corrupted {map.CorruptLogitDifference.ToString("F3", inv)}. Heads that matter most: {WebUtility.HtmlEncode(top)}.</div>"), "text/html");
        await session.ShareAsync(name, map, typeof(HeadPatchingMap));
    }

    public Task CompareMaps(ActScaleCompareMaps command, KernelInvocationContext context)
    {
        var record = session.RequireRun<NotebookRun>(command.Get(RunName));
        var wanted = command.Get(CompareMapsArgs.Patch);
        var map = (wanted is null ? _patches.LastOrDefault() : _patches.FirstOrDefault(p => p.Name == wanted))
            ?? throw new UsageException(_patches.Count == 0
                ? "No patching map yet. Make one with #!actscale patch (the prompts need corrupted versions)."
                : $"No patching map named '{wanted}'; the maps are {string.Join(", ", _patches.Select(p => p.Name))}.");
        var agreement = Checked(() => MapComparison.Compare(record.Run, map));
        var inv = CultureInfo.InvariantCulture;
        var overlap = string.Join(", ", agreement.TopKOverlap.Select(o => $"top {o.K}: {o.Shared} shared"));
        var html = $"<div class=\"actscale-compare-maps\"><div>Spearman rank correlation of |effect| ({WebUtility.HtmlEncode(record.Name)}) and |recovered| " +
                   $"({WebUtility.HtmlEncode(map.Name)}) over {agreement.Sites} sites: <b>{agreement.RankCorrelation.ToString("F3", inv)}</b>; {overlap}.</div>" +
                   "<div style=\"display:flex;flex-wrap:wrap\">" +
                   $"<div style=\"flex:1;min-width:420px\">{PlotlyHtml.Render(ActScaleCharts.Heatmap(record.Run.Heatmap()))}</div>" +
                   $"<div style=\"flex:1;min-width:420px\">{PlotlyHtml.Render(ActScaleCharts.Heatmap(map.Heatmap()))}</div></div></div>";
        context.Display(new ActScaleHtml(html), "text/html");
        return Task.CompletedTask;
    }
}
