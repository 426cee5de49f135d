#!/usr/bin/env python3
"""PyTorch eager reference for ActScale's benchmark: the same checkpoint, prompts, sites and three-term loss.

Run with Debian's python3-torch (`/usr/bin/python3`) and libopenblas0-pthread installed (without it PyTorch
falls back to the reference BLAS, ~20x slower). Prints the same CSV rows as bench/ActScale.Bench with
impl=pytorch. Written for ActScale; it mirrors ActScale's method, not its code:

  forward    no-grad forward of the doubled batch (beta = +1 and -1 rows), logits only at the last position
  train_*    one Adam step of ActivScalar / SteerVec / DynScalar on attn_out and mlp_out of every layer:
             hinge(m - beta*LD) + lambda_F * KL(clean || intervened, answers removed, renormalised) + lambda_M * L1
             with the clean distribution computed once, before timing.

What it shares with ActScale's step and what not, by what a PyTorch user would write: it projects only the last
position to the vocabulary (`hidden[:, -1] @ W.T`, the obvious line) and computes the clean distribution once; it runs
the full sequence through every block, including the last one, whose outputs at earlier positions the loss never reads
(ActScale skips them), and takes the faithfulness term through a full log-softmax per step. The default model
(data/models/actscale-capitals-ioi, 3 x 64) loads through the same reader as the random GPT-2 shapes.

    /usr/bin/python3 bench/pytorch_reference.py FOLDER --batch 8 --length 32 --repeats 5 --steps 3 --threads 2
"""
import argparse, json, math, os, sys, time
import torch
import torch.nn.functional as F

WORDS = [" Mary", " John", " the", " store", " gave", " a", " drink", " to", " Paris", " capital", " of", " France"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ActScale.Notebook.Tests", "Fixtures", "reference"))
from common import read_safetensors  # the tests' independent reader (float64); converted to float32 below


class Gpt2:
    def __init__(self, folder):
        self.cfg = json.load(open(os.path.join(folder, "config.json")))
        w = {k.removeprefix("transformer."): v.float() for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
        # nn.Linear layout [out, in], as a PyTorch user would hold it; weights frozen
        self.w = {k: (v.t().contiguous() if k.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")) else v) for k, v in w.items()}
        for v in self.w.values():
            v.requires_grad_(False)
        self.layers, self.d, self.heads = self.cfg["n_layer"], self.cfg["n_embd"], self.cfg["n_head"]
        self.vocab = self.w["wte.weight"].shape[0]

    def hidden(self, ids, hook=None):
        w, eps = self.w, self.cfg.get("layer_norm_epsilon", 1e-5)
        B, T = ids.shape
        ln = lambda x, p: F.layer_norm(x, (self.d,), w[p + ".weight"], w[p + ".bias"], eps)
        lin = lambda x, p: F.linear(x, w[p + ".weight"], w[p + ".bias"])
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        x = w["wte.weight"][ids] + w["wpe.weight"][:T]
        hd = self.d // self.heads
        for l in range(self.layers):
            p = f"h.{l}"
            q, k, v = lin(ln(x, p + ".ln_1"), p + ".attn.c_attn").split(self.d, dim=-1)
            q, k, v = (t.view(B, T, self.heads, hd).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            z = att.masked_fill(mask, float("-inf")).softmax(-1) @ v
            a = lin(z.transpose(1, 2).reshape(B, T, self.d), p + ".attn.c_proj")
            if hook: a = hook(0, l, a)
            x = x + a
            m = lin(F.gelu(lin(ln(x, p + ".ln_2"), p + ".mlp.c_fc"), approximate="tanh"), p + ".mlp.c_proj")
            if hook: m = hook(1, l, m)
            x = x + m
        return ln(x, "ln_f")

    def last_logits(self, ids, hook=None):
        return self.hidden(ids, hook)[:, -1] @ self.w["wte.weight"].t()


def answerless_log_probs(logits, correct, wrong):
    mask = torch.zeros_like(logits, dtype=torch.bool)
    rows = torch.arange(logits.shape[0])
    mask[rows, correct] = True
    mask[rows, wrong] = True
    return logits.masked_fill(mask, -1e9).log_softmax(-1)


def make_hook(method, theta, beta, d):
    def hook(s, l, h):
        if method == "activscalar":
            return h * (1 + beta * theta[s, l].view(1, -1, 1))
        if method == "steervec":
            return h + beta * theta[s, l].unsqueeze(0)
        alpha = h @ theta[s, l, :d] + theta[s, l, d]
        return h * (1 + beta * alpha.unsqueeze(-1))
    return hook


def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def emit(args, model, name, times, tokens, peak):
    s = sorted(times)
    median = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    print(f"pytorch,{args.model_label},{model.layers},{args.batch},{args.length},{name},{median*1000:.1f},{min(times)*1000:.1f},{max(times)*1000:.1f},{tokens/median:.0f},,{peak:.0f},", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--model-label", default="small")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--methods", default="activscalar,steervec,dynscalar")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vocab = json.load(open(os.path.join(args.folder, "vocab.json")))
    token = lambda word: vocab[word.replace(" ", "\u0120")]
    model = Gpt2(args.folder)
    B, T, d = args.batch, args.length, model.d
    ids = torch.tensor([[token(WORDS[(i + j * 5) % len(WORDS)]) for j in range(T)] for i in range(B)])
    correct = torch.full((B,), token(" Paris"))
    wrong = torch.full((B,), token(" Rome"))
    both_ids, both_c, both_w = ids.repeat(2, 1), correct.repeat(2), wrong.repeat(2)
    beta = torch.cat([torch.ones(B), -torch.ones(B)])
    with torch.no_grad():
        clean = answerless_log_probs(model.last_logits(ids), correct, wrong).repeat(2, 1)  # once per prompt, not per step

    reset_peak()
    def forward():
        with torch.no_grad():
            model.last_logits(both_ids).sum().item()
    emit(args, model, "forward", timed(forward, args.repeats), 2 * B * T, peak_mib())

    for method in args.methods.split(","):
        shape = {"activscalar": (2, model.layers, T), "steervec": (2, model.layers, T, d), "dynscalar": (2, model.layers, d + 1)}[method]
        theta = torch.zeros(shape, requires_grad=True)
        opt = torch.optim.Adam([theta], lr=0.01)
        hook = make_hook(method, theta, beta.view(-1, 1, 1), d)
        def step():
            logits = model.last_logits(both_ids, hook)
            ld = logits.gather(1, both_c[:, None])[:, 0] - logits.gather(1, both_w[:, None])[:, 0]
            eff = (1.0 - beta * ld).relu().mean()
            log_q = answerless_log_probs(logits, both_c, both_w)
            kl = (clean.exp() * (clean - log_q)).sum(1).mean()
            loss = eff + 1.0 * kl + 1e-3 * theta.abs().sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.item()
        step()
        reset_peak()
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for _ in range(args.steps):
                step()
            times.append((time.perf_counter() - t) / args.steps)
        emit(args, model, "train_" + method, times, 2 * B * T, peak_mib())


if __name__ == "__main__":
    main()
