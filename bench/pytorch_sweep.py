#!/usr/bin/env python3
"""The PyTorch side of `ActScale.Bench sweep8`: the same 8-setting ActivScalar sweep over lambda_M, as 8 sequential
PyTorch eager trainings (what a PyTorch user would write: one training per setting, each with its own Adam).

The sweep's checkpoint, prompts (token ids of the CCC task's training prompts of one layout), answers and settings are
read from the file sweep8 writes (actscale-bench/sweep8-SHAPE.json in the temp folder), so both sides train exactly the
same computation: per step a minibatch of the training prompts, its clean distribution from a no-grad forward of
those prompts (ActScale's batched sweep recomputes it per step too rather than holding [prompts, vocab]), the doubled batch at
beta = +1 and -1 through the intervened model, hinge(m - beta*LD) + lambda_F * KL + lambda_M * L1, backward, Adam.
Minibatches are a seeded per-epoch shuffle like ActScale's; the rows drawn differ, the work per step does not.
Prints CSV rows like bench/ActScale.Bench's (impl=pytorch, case sweep8_sequential, milliseconds per whole sweep).

    /usr/bin/python3 bench/pytorch_sweep.py /tmp/actscale-bench/sweep8-default.json --rounds 3 --threads 2
"""
import argparse, json, os, random, sys, time
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import Gpt2, answerless_log_probs, make_hook, peak_mib, reset_peak


def train(model, sweep, ids, correct, wrong, lambda_m, seed):
    """One setting's training; returns its final parameters."""
    n, length = ids.shape
    batch, d = sweep["batch"], model.d
    theta = torch.zeros((2, model.layers, length), requires_grad=True)
    opt = torch.optim.Adam([theta], lr=sweep["lr"], betas=(0.9, 0.999), eps=1e-8)
    beta = torch.cat([torch.ones(batch), -torch.ones(batch)])
    hook = make_hook("activscalar", theta, beta.view(-1, 1, 1), d)
    shuffle, order, cursor = random.Random(seed), list(range(n)), n
    for _ in range(sweep["steps"]):
        rows = []
        while len(rows) < batch:
            if cursor == n:
                shuffle.shuffle(order)
                cursor = 0
            rows.append(order[cursor])
            cursor += 1
        rows = torch.tensor(rows)
        c, w = correct[rows], wrong[rows]
        with torch.no_grad():
            clean = answerless_log_probs(model.last_logits(ids[rows]), c, w).repeat(2, 1)
        both_c, both_w = c.repeat(2), w.repeat(2)
        logits = model.last_logits(ids[rows].repeat(2, 1), hook)
        ld = logits.gather(1, both_c[:, None])[:, 0] - logits.gather(1, both_w[:, None])[:, 0]
        eff = (sweep["margin"] - beta * ld).relu().mean()
        log_q = answerless_log_probs(logits, both_c, both_w)
        kl = (clean.exp() * (clean - log_q)).sum(1).mean()
        loss = eff + sweep["lambda_f"] * kl + lambda_m * theta.abs().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return theta.detach()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sweep", help="the JSON file ActScale.Bench sweep8 wrote")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--model-label", default=None, help="the model column (default: from the file name)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sweep = json.load(open(args.sweep))
    label = args.model_label or os.path.basename(args.sweep).removeprefix("sweep8-").removesuffix(".json")
    model = Gpt2(sweep["folder"])
    ids = torch.tensor(sweep["ids"])
    correct, wrong = torch.tensor(sweep["correct"]), torch.tensor(sweep["wrong"])

    def sweep_once(steps=None):
        local = dict(sweep, steps=steps or sweep["steps"])
        for lambda_m in sweep["lambda_m"]:
            train(model, local, ids, correct, wrong, lambda_m, seed=0)

    sweep_once(steps=1)  # warm-up, as the ActScale side does
    reset_peak()
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        sweep_once()
        times.append(time.perf_counter() - start)
    s = sorted(times)
    median = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    print(f"# pytorch {torch.__version__}, threads {torch.get_num_threads()}, load {open('/proc/loadavg').read().strip()}")
    print(f"pytorch,{label},{model.layers},{sweep['batch']},{ids.shape[1]},sweep8_sequential,{median*1000:.1f},{min(times)*1000:.1f},"
          f"{max(times)*1000:.1f},,,{peak_mib():.0f}", flush=True)


if __name__ == "__main__":
    main()
