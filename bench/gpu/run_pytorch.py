#!/usr/bin/env python3
"""ActScale's benchmark computation in PyTorch on a GPU: eager and torch.compile, float32 and bfloat16.

The same cases as bench/ActScale.Bench and bench/pytorch_reference.py, on GPT-2-shaped models with random weights
made directly on the device (an XL checkpoint file would be 6 GB): a no-grad forward of the doubled batch (β = +1
and −1 rows) with logits at the last position only, and one ActivScalar Adam step on attn_out and mlp_out of every
layer with the three-term loss hinge(m − β·LD) + λ_F·KL(clean ‖ intervened, answers removed) + λ_M·L1.

Output: ActScale.Bench's CSV columns, then device,dtype,tflops,share_of_peak,gpu_peak_mib,note. FLOPs are counted
as RandomGpt2.ForwardFlops / TrainingStepFlops count them; x_of_limit divides by a matmul measured here in the
same dtype, as ActScale.Bench does. Runs on torch 1.13 (CPU smoke test) and 2.x (CUDA; compile needs 2.x):

    python3 bench/gpu/run_pytorch.py --shapes small,medium --dtypes bfloat16 --mode eager
"""
import argparse, importlib, math, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flops import SHAPES, VOCAB, forward_flops, peak_tflops, step_flops  # noqa: E402  (beside this script)

CORRECT, WRONG = 6342, 10598  # " Paris", " Rome" in GPT-2's vocabulary; any two distinct ids would do
COLUMNS = ("impl,model,layers,batch,length,case,median_ms,min_ms,max_ms,tokens_per_s,x_of_limit,peak_rss_mib,"
           "device,dtype,tflops,share_of_peak,gpu_peak_mib,note")


class RandomGpt2:
    """GPT-2 weights in nn.Linear layout, frozen; blocks run through one function so torch.compile traces a block once."""

    def __init__(self, layers, width, heads, device, dtype):
        torch.manual_seed(0)
        rand = lambda *shape: (torch.randn(*shape, device=device) * 0.02).to(dtype)
        ones, zeros = (lambda: torch.ones(width, device=device, dtype=dtype)), (lambda: torch.zeros(width, device=device, dtype=dtype))
        self.layers, self.width, self.heads = layers, width, heads
        self.wte, self.wpe, self.ln_f = rand(VOCAB, width), rand(1024, width), (ones(), zeros())
        self.blocks = [(ones(), zeros(), rand(3 * width, width), rand(3 * width), rand(width, width), rand(width),
                        ones(), zeros(), rand(4 * width, width), rand(4 * width), rand(width, 4 * width), rand(width))
                       for _ in range(layers)]


def attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0: what a PyTorch user writes on a GPU
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    T = q.shape[-2]
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    return ((q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])).masked_fill(mask, float("-inf")).softmax(-1) @ v


def block(x, w, heads, attn_scale=None, mlp_scale=None):
    ln1w, ln1b, wqkv, bqkv, wo, bo, ln2w, ln2b, wfc, bfc, wproj, bproj = w
    B, T, d = x.shape
    q, k, v = F.linear(F.layer_norm(x, (d,), ln1w, ln1b), wqkv, bqkv).split(d, dim=-1)
    q, k, v = (t.view(B, T, heads, d // heads).transpose(1, 2) for t in (q, k, v))
    a = F.linear(attention(q, k, v).transpose(1, 2).reshape(B, T, d), wo, bo)
    x = x + (a if attn_scale is None else a * attn_scale)
    m = F.linear(F.gelu(F.linear(F.layer_norm(x, (d,), ln2w, ln2b), wfc, bfc), approximate="tanh"), wproj, bproj)
    return x + (m if mlp_scale is None else m * mlp_scale)


def last_logits(model, x, run_block, scales=None):
    for l, w in enumerate(model.blocks):
        x = run_block(x, w, model.heads, *(scales(l) if scales else ()))
    return F.layer_norm(x[:, -1], (model.width,), *model.ln_f) @ model.wte.t()


def answerless_log_probs(logits, correct, wrong):
    removed = torch.zeros_like(logits, dtype=torch.bool)
    rows = torch.arange(logits.shape[0], device=logits.device)
    removed[rows, correct] = True
    removed[rows, wrong] = True
    return logits.float().masked_fill(removed, -1e9).log_softmax(-1)


def activscalar_loss(logits, beta, clean, correct, wrong, theta, lambda_f=1.0, lambda_m=1e-3):
    logits = logits.float()
    ld = logits.gather(1, correct[:, None])[:, 0] - logits.gather(1, wrong[:, None])[:, 0]
    effectiveness = (1.0 - beta * ld).relu().mean()
    faithfulness = (clean.exp() * (clean - answerless_log_probs(logits, correct, wrong))).sum(1).mean()
    return effectiveness + lambda_f * faithfulness + lambda_m * theta.abs().sum()


class Timer:
    """Wall time of a callable that ends on the device: CUDA events where there is a GPU, perf_counter otherwise."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def seconds(self, fn):
        if not self.cuda:
            start = time.perf_counter()
            fn()
            return time.perf_counter() - start
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000


def matmul_rate(device, dtype, timer, n=4096):
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    return 2.0 * n ** 3 / min(timer.seconds(lambda: a @ b) for _ in range(10))


def run_case(args, ctx, model, shape, batch, length, run_block):
    """Emits the forward row and the train_activscalar row for one batch × length."""
    device, dtype, timer = ctx["device"], ctx["dtype"], ctx["timer"]
    B, T, L = batch, length, model.layers
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, VOCAB, (B, T), generator=generator).to(device)
    doubled = torch.cat([ids, ids])
    embed = lambda tokens: model.wte[tokens] + model.wpe[:T]
    correct = torch.full((2 * B,), CORRECT, device=device)
    wrong = torch.full((2 * B,), WRONG, device=device)
    beta = torch.cat([torch.ones(B, device=device), -torch.ones(B, device=device)])
    with torch.no_grad():
        # Untimed and once per prompt, so eager: a compiled block would spend a compile on this batch shape.
        clean = answerless_log_probs(last_logits(model, embed(ids), block), correct[:B], wrong[:B]).repeat(2, 1)

    def forward():
        with torch.no_grad():
            last_logits(model, embed(doubled), run_block).sum().item()

    theta = torch.zeros(2, L, T, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=0.01)
    row_beta = beta.view(-1, 1, 1)

    def scales(l):  # factors 1 + β·θ per row and position, in the activations' dtype
        return ((1 + row_beta * theta[0, l].view(1, -1, 1)).to(dtype), (1 + row_beta * theta[1, l].view(1, -1, 1)).to(dtype))

    def step():
        logits = last_logits(model, embed(doubled), run_block, scales)
        loss = activscalar_loss(logits, beta, clean, correct, wrong, theta)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    for name, fn, steps, flops in (("forward", forward, 1, forward_flops(L, model.width, 2 * B, T)),
                                   ("train_activscalar", step, args.steps, step_flops(L, model.width, B, T))):
        try:
            warm = time.perf_counter()
            for _ in range(args.warmups):
                fn()
            warm = time.perf_counter() - warm
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            times = [timer.seconds(lambda: [fn() for _ in range(steps)]) / steps for _ in range(args.repeats)]
            note = f"warm-up {warm:.1f} s" if args.mode == "compile" else ""
            emit(args, ctx, shape, L, B, T, name, times, flops, note)
        except Exception as e:  # one failed case (out of memory, a compile error) must not lose the others
            emit(args, ctx, shape, L, B, T, name, None, flops, "failed: " + first_line(e))
            if device.type == "cuda":
                torch.cuda.empty_cache()


def first_line(e):
    text = f"{type(e).__name__}: {e}".strip().splitlines()[0]
    return text.replace(",", ";")[:200]


def emit(args, ctx, shape, layers, batch, length, case, times, flops, note):
    head = [f"pytorch-{args.mode}", shape, layers, batch, length, case]
    tail = [ctx["device_name"], ctx["dtype_name"]]
    if times is None:
        print(",".join(map(str, head + [""] * 6 + tail + ["", "", "", note])), flush=True)
        return
    s = sorted(times)
    median = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    achieved = flops / median
    share = f"{achieved / 1e12 / ctx['peak']:.3f}" if ctx["peak"] else ""
    gpu_peak = f"{torch.cuda.max_memory_allocated() / 2**20:.0f}" if ctx["device"].type == "cuda" else ""
    print(",".join(map(str, head + [f"{median*1e3:.2f}", f"{s[0]*1e3:.2f}", f"{s[-1]*1e3:.2f}", f"{2*batch*length/median:.0f}",
                                    f"{median / (flops / ctx['matmul']):.2f}", ""] + tail
                       + [f"{achieved/1e12:.2f}", share, gpu_peak, note])), flush=True)


def compiled_block(args):
    if not hasattr(torch, "compile"):
        raise RuntimeError(f"torch.compile needs torch 2.x; this is {torch.__version__}")
    config = importlib.import_module("torch._dynamo").config
    for name in ("recompile_limit", "cache_size_limit"):  # renamed in torch 2.6; a graph per grad mode and shape is expected
        if hasattr(config, name):
            setattr(config, name, 64)  # a graph per (grad mode, input needs grad, shape) is expected
    return torch.compile(block, dynamic=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="small,medium,xl", help="from " + ",".join(SHAPES))
    ap.add_argument("--cases", default="8x32,32x128", help="batch x length pairs")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--mode", choices=("eager", "compile"), default="eager")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tf32", action="store_true", help="let float32 matmuls use TF32 (PyTorch's default is off)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=2, help="training steps per timed repeat")
    ap.add_argument("--warmups", type=int, default=2)
    ap.add_argument("--header", action="store_true", help="print the CSV header line first")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("CUDA was requested but torch.cuda.is_available() is False; pass --device cpu for a smoke test.")
    if device.type == "cpu":
        torch.set_num_threads(1)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
    unknown = [s for s in args.shapes.split(",") if s not in SHAPES]
    if unknown:
        sys.exit(f"unknown shape(s) {unknown}; use {','.join(SHAPES)}")
    cases = [tuple(int(n) for n in c.split("x")) for c in args.cases.split(",")]
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    if args.header:
        print(COLUMNS)
    try:
        run_block = compiled_block(args) if args.mode == "compile" else block
    except RuntimeError as e:
        sys.exit(f"# failed: {first_line(e)}")
    timer = Timer(device)
    for dtype_name in args.dtypes.split(","):
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype_name]
        ctx = dict(device=device, dtype=dtype, dtype_name=dtype_name + ("-tf32" if args.tf32 and dtype == torch.float32 else ""),
                   timer=timer, device_name=device_name, peak=peak_tflops(device_name, dtype_name, args.tf32),
                   matmul=matmul_rate(device, dtype, timer))
        print(f"# pytorch {torch.__version__} {args.mode} on {device_name} {dtype_name}: matmul 4096^3 {ctx['matmul']/1e12:.1f} TFLOP/s,"
              f" peak {ctx['peak']} TFLOP/s", flush=True)
        for shape in args.shapes.split(","):
            layers, width, heads = SHAPES[shape]
            model = RandomGpt2(layers, width, heads, device, dtype)
            for batch, length in cases:
                run_case(args, ctx, model, shape, batch, length, run_block)
            del model
            if device.type == "cuda":
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
