using ActScale.Interventions;

namespace ActScale.Bench;

/// <summary>
/// --shapes default,small,medium  --batches 8  --lengths 32  --layers 12 (sweeps take lists)
/// --methods activscalar,steervec,dynscalar  --repeats 5  --steps 3  --threads N  --device auto|cpu|cuda[:N]  --dtype float32|bfloat16|float16 (the last two on CUDA only)
/// </summary>
public sealed record BenchOptions(string[] Shapes, int[] Batches, int[] Lengths, int[]? Layers, InterventionMethod[] Methods,
    int Repeats, int StepsPerRepeat, int Threads, string Device, string DType)
{
    public IEnumerable<int> LayerCounts(string shape) =>
        shape == "default" ? [0] : Layers ?? [RandomGpt2.Shapes[shape].Layers];

    public static BenchOptions Parse(string[] args)
    {
        string? Get(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        string[] List(string name, string fallback) => (Get(name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries);
        int[] Ints(string name, string fallback) => List(name, fallback).Select(int.Parse).ToArray();
        return new BenchOptions(
            List("--shapes", "small"),
            Ints("--batches", "8"),
            Ints("--lengths", "32"),
            Get("--layers") is null ? null : Ints("--layers", ""),
            List("--methods", "activscalar,steervec,dynscalar").Select(InterventionRegistry.Get).ToArray(),
            int.Parse(Get("--repeats") ?? "5"),
            int.Parse(Get("--steps") ?? "3"),
            int.Parse(Get("--threads") ?? "0"),
            Get("--device") ?? "auto",
            Get("--dtype") ?? "float32");
    }
}
