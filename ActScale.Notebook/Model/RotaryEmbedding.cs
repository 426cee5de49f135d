using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ActScale.Model;

/// <summary>
/// Rotary position embedding in Hugging Face's <c>rotate_half</c> layout: within the first
/// <c>rotaryDim</c> features of each head, feature j pairs with feature j + rotaryDim/2 and turns by
/// position · inverseFrequency[j]. Features past <c>rotaryDim</c> (GPT-NeoX's partial rotary) pass through.
/// One instance serves every layer; cos/sin tables are built once per length on the model's device and dtype.
/// </summary>
public sealed class RotaryEmbedding : IPositionRotation, IDisposable
{
    private readonly double[] _inverseFrequencies;
    private readonly int _rotaryDim;
    private readonly Device _device;
    private readonly ScalarType _dtype;
    private Tensor? _cos, _sin;
    private long _cachedLength;

    /// <param name="inverseFrequencies">rotaryDim/2 angular frequencies, already scaled (see <see cref="RopeFrequencies"/>).</param>
    public RotaryEmbedding(double[] inverseFrequencies, Device device, ScalarType dtype)
    {
        _inverseFrequencies = inverseFrequencies;
        _rotaryDim = 2 * inverseFrequencies.Length;
        _device = device;
        _dtype = dtype;
    }

    public int RotaryDim => _rotaryDim;

    /// <summary>
    /// Rotates queries or keys [batch, heads, position, headDim]; positions count from 0 along the sequence, or are
    /// given per row as <paramref name="positions"/> [batch, position] (left-padded or cached generation).
    /// </summary>
    public Tensor Rotate(Tensor x, Tensor? positions = null)
    {
        long batch = x.shape[0], length = x.shape[2], headDim = x.shape[3];
        if (headDim < _rotaryDim)
            throw new InvalidOperationException($"Rotary embedding covers {_rotaryDim} features but heads have only {headDim}.");
        EnsureTables(positions is null ? length : positions.max().item<long>() + 1);
        using var scope = NewDisposeScope();
        var (cos, sin) = positions is null
            ? (_cos!.narrow(0, 0, length), _sin!.narrow(0, 0, length))
            : (Rows(_cos!, positions, batch, length), Rows(_sin!, positions, batch, length));
        int half = _rotaryDim / 2;
        var rotated = x.narrow(-1, 0, _rotaryDim);
        var turned = cat([rotated.narrow(-1, half, half).neg(), rotated.narrow(-1, 0, half)], -1);   // rotate_half
        var sum = rotated * cos + turned * sin;
        var result = _rotaryDim == headDim ? sum : cat([sum, x.narrow(-1, _rotaryDim, headDim - _rotaryDim)], -1);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The table's rows at <paramref name="positions"/>, shaped [batch, 1 (heads), position, rotaryDim].</summary>
    private Tensor Rows(Tensor table, Tensor positions, long batch, long length) =>
        table.index_select(0, positions.flatten()).view(batch, 1, length, _rotaryDim);

    private void EnsureTables(long length)
    {
        if (_cos is not null && length <= _cachedLength) return;
        long size = Math.Max(length, Math.Max(64, 2 * _cachedLength));
        var angles = new double[size * _rotaryDim];
        int half = _rotaryDim / 2;
        for (long p = 0; p < size; p++)
            for (int j = 0; j < half; j++)
            {
                double angle = p * _inverseFrequencies[j];
                angles[p * _rotaryDim + j] = angle;
                angles[p * _rotaryDim + j + half] = angle;
            }
        _cos?.Dispose();
        _sin?.Dispose();
        using var table = tensor(angles, [size, _rotaryDim], ScalarType.Float64);
        using var cos = table.cos();
        using var sin = table.sin();
        _cos = cos.to(_dtype, _device).DetachFromDisposeScope();
        _sin = sin.to(_dtype, _device).DetachFromDisposeScope();
        _cachedLength = size;
    }

    public void Dispose()
    {
        _cos?.Dispose();
        _sin?.Dispose();
        _cos = _sin = null;
    }
}

/// <summary>RoPE inverse frequencies from a config: base θ, rotary width and the optional <c>rope_scaling</c>.</summary>
public static class RopeFrequencies
{
    /// <summary>θ^(−2j/rotaryDim) for j in 0..rotaryDim/2, then scaled as <paramref name="scaling"/> says.</summary>
    public static double[] Compute(int rotaryDim, double theta, JsonObject? scaling, string configPath)
    {
        if (rotaryDim <= 0 || rotaryDim % 2 != 0)
            throw new InvalidDataException($"'{configPath}' implies a rotary width of {rotaryDim}; it must be a positive even number.");
        var frequencies = new double[rotaryDim / 2];
        for (int j = 0; j < frequencies.Length; j++) frequencies[j] = 1.0 / Math.Pow(theta, 2.0 * j / rotaryDim);
        if (scaling is null) return frequencies;

        var type = ModelConfig.OptionalString(scaling, "rope_type") ?? ModelConfig.OptionalString(scaling, "type") ?? "default";
        double Required(string key) => ModelConfig.OptionalDouble(scaling, key)
            ?? throw new InvalidDataException($"'{configPath}' has rope_scaling type '{type}' without \"{key}\".");
        switch (type)
        {
            case "default":
                return frequencies;
            case "linear":
            {
                // Positions divided by the factor, which is the same as dividing every frequency by it.
                double factor = Required("factor");
                return frequencies.Select(f => f / factor).ToArray();
            }
            case "llama3":
            {
                double factor = Required("factor"), low = Required("low_freq_factor"), high = Required("high_freq_factor");
                double original = Required("original_max_position_embeddings");
                double lowWavelength = original / low, highWavelength = original / high;
                return frequencies.Select(f =>
                {
                    double wavelength = 2 * Math.PI / f;
                    if (wavelength < highWavelength) return f;          // high frequencies: unchanged
                    if (wavelength > lowWavelength) return f / factor;  // low frequencies: fully interpolated
                    double smooth = (original / wavelength - low) / (high - low);
                    return (1 - smooth) * f / factor + smooth * f;
                }).ToArray();
            }
            default:
                throw new NotSupportedException(
                    $"'{configPath}' asks for rope_scaling type '{type}', which ActScale does not implement; supported: linear, llama3 (or none).");
        }
    }
}
