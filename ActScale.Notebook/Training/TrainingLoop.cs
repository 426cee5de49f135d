using System.Diagnostics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActScale.Training;

/// <summary>
/// One step's objective: the loss of each setting and its terms (L_E, L_F, ℓ1 raw), each shaped like the loop's
/// settings, and <paramref name="Total"/>, the scalar that backward differentiates.
/// </summary>
/// <param name="Total">One run's loss itself; for K settings the sum of their losses, whose gradient with respect to
/// each setting's parameters is that setting's own loss's.</param>
internal readonly record struct StepLoss(Tensor Total, Tensor Loss, Tensor Effectiveness, Tensor Faithfulness, Tensor L1);

/// <summary>
/// The training loop <see cref="Trainer"/> and <see cref="BatchedTrainer"/> share: Adam on one parameter tensor with the
/// model frozen, the best (lowest minibatch loss) and last-good (finite) parameters of each setting tracked on the device,
/// and no host synchronisation except the report every few steps. The settings are the leading
/// <c>settingShape</c> axes of the parameters and of every loss term: none for one run, [K] for K settings stacked.
/// What a trainer owns it passes in: the objective of a step, and what to do with each report.
/// </summary>
internal sealed class TrainingLoop : IDisposable
{
    private readonly Parameter _parameters;
    private readonly optim.Optimizer _optimizer;
    private readonly Tensor _best, _lastGood, _bestLoss;
    private readonly int _settingAxes;
    /// <summary>A per-setting flag viewed to this shape ([K, 1, 1, ...]) broadcasts over that setting's parameters.</summary>
    private readonly long[] _flagShape;
    private readonly Stopwatch _clock;

    /// <summary>Starts the clock: whatever the trainer prepares after this (the clean reference) counts in the training time.</summary>
    public TrainingLoop(Parameter parameters, long[] settingShape, double learningRate)
    {
        _parameters = parameters;
        _optimizer = optim.Adam([parameters], learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8);
        _best = parameters.detach().clone();
        _lastGood = parameters.detach().clone();
        _bestLoss = full(settingShape, double.PositiveInfinity, ScalarType.Float32, parameters.device);
        _settingAxes = settingShape.Length;
        _flagShape = [.. settingShape, .. Enumerable.Repeat(1L, (int)parameters.dim() - settingShape.Length)];
        _clock = Stopwatch.StartNew();
    }

    /// <summary>Steps completed.</summary>
    public int Step { get; private set; }

    public bool Cancelled { get; private set; }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Each setting's last parameters with a finite loss: what a diverged setting hands back.</summary>
    public Tensor LastGood => _lastGood;

    /// <summary>What the training ends with: the best parameters seen when cancelled, else the last.</summary>
    public Tensor Result => Cancelled ? _best : _parameters;

    /// <summary>
    /// Trains until <paramref name="steps"/> are done, <paramref name="cancellation"/> is requested, or
    /// <paramref name="report"/> says no setting trains on. Every <paramref name="reportEvery"/> steps and after the last,
    /// <paramref name="report"/> gets the step's terms on the host, four a setting (loss, L_E, L_F, ℓ1) in the settings' order.
    /// </summary>
    public void Run(int steps, int reportEvery, Func<int, StepLoss> objective, Func<float[], bool> report, CancellationToken cancellation)
    {
        while (Step < steps)
        {
            if (cancellation.IsCancellationRequested) { Cancelled = true; break; }
            using var scope = NewDisposeScope();
            var (total, loss, effectiveness, faithfulness, l1) = objective(Step);
            _optimizer.zero_grad();
            total.backward();
            using (no_grad()) Track(loss);
            _optimizer.step();
            Step++;
            if (Step % reportEvery == 0 || Step == steps)
            {
                // The only host synchronisation: divergence shows here, and the last good parameters are still on the device.
                var terms = stack([loss, effectiveness, faithfulness, l1], -1).detach().cpu().data<float>().ToArray();
                if (!report(terms)) break;
            }
        }
        _clock.Stop();
    }

    /// <summary>Keeps, per setting, the parameters that gave the lowest finite loss and the last ones that were finite, without leaving the device.</summary>
    private void Track(Tensor loss)
    {
        var finite = loss.isfinite().logical_and(_parameters.isfinite().flatten(_settingAxes).all(_settingAxes));
        var improved = loss.lt(_bestLoss).logical_and(finite);
        _bestLoss.copy_(where(improved, loss, _bestLoss));
        _best.copy_(where(improved.view(_flagShape), _parameters, _best));
        _lastGood.copy_(where(finite.view(_flagShape), _parameters, _lastGood));
    }

    /// <summary>Disposes the optimizer; the loop's tensors belong to the dispose scope it was created in, the trainer's run scope.</summary>
    public void Dispose() => _optimizer.Dispose();
}
