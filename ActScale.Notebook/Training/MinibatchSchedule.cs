using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>
/// Which prompts each training step uses: epochs of a seeded shuffle of the training rows, cut into minibatches. The
/// schedule is drawn lazily, a block of steps at a time, so a long training (a million steps of a thousand prompts)
/// holds only one block in memory and the host copies indices to the device once per block, not once per step.
/// </summary>
internal sealed class MinibatchSchedule : IDisposable
{
    /// <summary>At most this many indices (8 MB of int64) are drawn and held at once.</summary>
    private const long BlockEntries = 1 << 20;

    private readonly Random _random;
    private readonly int[] _order;
    private readonly Device _device;
    private readonly int _batch;
    private readonly int _stepsPerBlock;
    private readonly long _steps;
    private int _cursor;
    private Tensor? _block;
    private long _blockStart = -1;

    public MinibatchSchedule(int rowCount, int batch, long steps, int seed, Device device)
    {
        _steps = steps;
        _random = new Random(seed);
        _order = Enumerable.Range(0, rowCount).ToArray();
        _cursor = rowCount;
        _batch = batch;
        _device = device;
        _stepsPerBlock = (int)Math.Max(1, BlockEntries / batch);
    }

    /// <summary>The rows of step <paramref name="step"/> ([batch] int64 on the device); steps must be asked for in order.</summary>
    public Tensor Rows(long step)
    {
        if (_block is null || step >= _blockStart + _stepsPerBlock)
        {
            _block?.Dispose();
            _block = DrawBlock((int)Math.Min(_stepsPerBlock, _steps - step));
            _blockStart = step;
        }
        return _block[step - _blockStart];
    }

    private Tensor DrawBlock(int steps)
    {
        var indices = new long[(long)steps * _batch];
        for (long k = 0; k < indices.Length; k++)
        {
            if (_cursor == _order.Length)
            {
                for (int i = _order.Length - 1; i > 0; i--) { int j = _random.Next(i + 1); (_order[i], _order[j]) = (_order[j], _order[i]); }
                _cursor = 0;
            }
            indices[k] = _order[_cursor++];
        }
        return tensor(indices, [steps, _batch], device: _device).DetachFromDisposeScope();
    }

    public void Dispose() => _block?.Dispose();
}
