"""Shapes, FLOP counts and GPU peaks shared by run_pytorch.py and table (no torch needed here).

The counts are ActScale.Bench's (bench/ActScale.Bench/RandomGpt2.cs), so a row's TFLOP/s means the same
arithmetic whichever implementation produced it.
"""

SHAPES = {"tiny": (2, 64, 4), "small": (12, 768, 12), "medium": (24, 1024, 16), "xl": (48, 1600, 25)}  # layers, width, heads
VOCAB = 50257

# Dense TFLOP/s (bf16, tf32, fp32) from NVIDIA's data sheets, matched against torch's device name in this order.
PEAKS = [
    ("H100 PCIe", (756.0, 378.0, 51.2)),
    ("H100 NVL", (835.0, 418.0, 60.0)),
    ("H100", (989.4, 494.7, 66.9)),      # SXM5 ("NVIDIA H100 80GB HBM3")
    ("H200", (989.4, 494.7, 66.9)),
    ("A100", (312.0, 156.0, 19.5)),
]


def forward_flops(layers, width, rows, length):
    """RandomGpt2.ForwardFlops: projections and causal attention per token, the vocabulary only at the last position."""
    tokens = rows * length
    per_token = layers * 12.0 * width * width + layers * 2.0 * length * width
    return 2 * (tokens * per_token + rows * VOCAB * width)


def step_flops(layers, width, batch, length):
    """RandomGpt2.TrainingStepFlops: the doubled forward plus an activation-only backward of the same cost."""
    return 2 * forward_flops(layers, width, 2 * batch, length)


def peaks_for(device_name):
    """(bf16, tf32, fp32) dense TFLOP/s of the first PEAKS entry the name contains; None for an unknown GPU."""
    return next((peaks for key, peaks in PEAKS if key in device_name), None)


def peak_tflops(device_name, dtype, tf32=False):
    """The dense peak for "bfloat16" or "float32" (TF32 where float32 matmuls may use it); None for an unknown GPU."""
    peaks = peaks_for(device_name)
    if peaks is None:
        return None
    return peaks[0] if dtype.startswith("bfloat16") else peaks[1] if tf32 else peaks[2]
