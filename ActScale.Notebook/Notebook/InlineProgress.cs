namespace ActScale.Notebook;

/// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to a context that may never run).</summary>
internal sealed class InlineProgress<T>(Action<T> report, bool swallow = true) : IProgress<T>
{
    public void Report(T value)
    {
        if (!swallow) { report(value); return; }
        try { report(value); } catch (Exception) { /* a display that cannot update must not stop training */ }
    }
}
