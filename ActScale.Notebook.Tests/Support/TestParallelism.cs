// Test classes run one after another. TorchSharp 0.107 passes an implicitly converted Scalar's native handle to libtorch
// without keeping the managed Scalar alive (e.g. `tensor + 1`), so a garbage collection triggered by another thread's
// allocations can finalize it mid-call: one full CI run failed two training tests with "Unknown scalar type" and
// "Expected false to be true" from c10's Scalar.h while test classes trained models side by side; no class run alone did. With one
// test class at a time only a training's own threads allocate, which makes that window far rarer. Re-check on a
// TorchSharp upgrade (dotnet/TorchSharp#1496 is about disposing such Scalars).
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
