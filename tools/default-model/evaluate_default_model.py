#!/usr/bin/env python3
"""Measure ActScale's default model with a full-vocabulary (50257-way) GPT-2 forward.

    /usr/bin/python3 tools/default-model/evaluate_default_model.py [MODEL_DIR] [--reference PATH/gpt2_logits.py]

Uses the independent reference forward (shared/reference/gpt2_logits.py) when it is found, otherwise an
equivalent forward written here. Prompts come from data/lists/templates.json with a fixed seed (1).
For a prompt with a correct and a wrong candidate token, "prefers" means logit(correct) > logit(wrong) at
the last position; "top-1" means the correct token is the argmax over the whole vocabulary.
  fact           4 recall templates x 45 countries; wrong = another capital
  ccc conflict   every CCC template x 45 countries, context capital = another country's capital:
                 share preferring the in-context capital over the memorised one
  ccc agree      every CCC template x 45 countries with context capital = true capital: top-1 accuracy
  ioi            per template and order (ABBA, BABA) 20 random name pairs, random place/object:
                 share preferring the indirect object over the subject
"""
import argparse
import importlib.util
import json
import math
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus as C  # noqa: E402

DEFAULT_REFERENCE = os.path.join(C.REPO, "..", "..", "shared", "reference", "gpt2_logits.py")


def local_forward_module():
    """Same semantics as Hugging Face GPT2LMHeadModel; used when the reference script is not present."""
    import struct

    class M:
        @staticmethod
        def load(folder):
            cfg = json.load(open(os.path.join(folder, "config.json")))
            with open(os.path.join(folder, "model.safetensors"), "rb") as f:
                n = struct.unpack("<Q", f.read(8))[0]
                header = json.loads(f.read(n))
                data = f.read()
            dt = {"F16": torch.float16, "F32": torch.float32}
            w = {}
            for name, meta in header.items():
                if name != "__metadata__":
                    a, b = meta["data_offsets"]
                    w[name.replace("transformer.", "", 1)] = torch.frombuffer(
                        bytearray(data[a:b]), dtype=dt[meta["dtype"]]).reshape(meta["shape"]).float()
            return cfg, w

        @staticmethod
        def forward(cfg, w, ids):
            gelu = lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
            ln = lambda x, p: torch.nn.functional.layer_norm(x, x.shape[-1:], w[p + ".weight"], w[p + ".bias"],
                                                             cfg["layer_norm_epsilon"])
            lin = lambda x, p: x @ w[p + ".weight"] + w[p + ".bias"]
            T, H = len(ids), cfg["n_head"]
            x = w["wte.weight"][ids] + w["wpe.weight"][:T]
            for l in range(cfg["n_layer"]):
                p = f"h.{l}"
                q, k, v = lin(ln(x, p + ".ln_1"), p + ".attn.c_attn").split(x.shape[-1], -1)
                q, k, v = (t.view(T, H, -1).transpose(0, 1) for t in (q, k, v))
                a = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
                a = a.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
                x = x + lin((a @ v).transpose(0, 1).reshape(T, -1), p + ".attn.c_proj")
                x = x + lin(gelu(lin(ln(x, p + ".ln_2"), p + ".mlp.c_fc")), p + ".mlp.c_proj")
            return ln(x, "ln_f") @ w["wte.weight"].T, []
    return M


def forward_module(path):
    if path and os.path.exists(path):
        spec = importlib.util.spec_from_file_location("gpt2_reference", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod, os.path.abspath(path)
    return local_forward_module(), "local forward (reference script not found)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=os.path.join(C.REPO, "data", "models", "actscale-capitals-ioi"))
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--ioi-per-template", type=int, default=20)
    ap.add_argument("--json", help="also write the numbers to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)

    mod, used = forward_module(args.reference)
    cfg, w = mod.load(args.model)
    tok = C.Gpt2Tokenizer()
    tpl = json.load(open(os.path.join(C.LISTS, "templates.json")))
    countries = C.read_countries()
    capitals = [c for _, c in countries]
    rng = random.Random(1)
    tid = lambda word: tok.encode(" " + word)[0]

    def last_logits(prompt):
        with torch.no_grad():
            logits, _ = mod.forward(cfg, w, torch.tensor(tok.encode(prompt)))
        return logits[-1]

    results, examples = {}, {}

    def record(key, prompt, correct, wrong):
        lg = last_logits(prompt)
        r = results.setdefault(key, {"n": 0, "prefers_correct": 0, "top1_correct": 0, "top1_either": 0, "ld_sum": 0.0})
        c, wr = tid(correct), tid(wrong)
        top = int(lg.argmax())
        r["n"] += 1
        r["prefers_correct"] += int(lg[c] > lg[wr])
        r["top1_correct"] += int(top == c)
        r["top1_either"] += int(top in (c, wr))
        r["ld_sum"] += float(lg[c] - lg[wr])
        examples.setdefault(key, (prompt, correct, wrong, tok.decode([top])))

    for country, capital in countries:
        for t in tpl["fact"]:
            record("fact", t.format(country=country), capital, rng.choice([c for c in capitals if c != capital]))
    for split in ("ccc_train", "ccc_test"):
        for t in tpl[split]:
            for country, capital in countries:
                ctx = rng.choice([c for c in capitals if c != capital])
                # "correct" = in-context capital, so prefers_correct = share following the context
                record(f"{split} conflict (in-context vs memorised)",
                       t.format(country=country, context_capital=ctx), ctx, capital)
                record(f"{split} agree (capital vs other)",
                       t.format(country=country, context_capital=capital), capital, ctx)
    for names_key in ("ioi_names_train", "ioi_names_test"):
        for split in ("ioi_train", "ioi_test"):
            for t in tpl[split]:
                for order in ("ABBA", "BABA"):
                    for _ in range(args.ioi_per_template):
                        a, b = rng.sample(tpl[names_key], 2)
                        p = t[order].format(A=a, B=b, place=rng.choice(tpl["places"]), object=rng.choice(tpl["objects"]))
                        record(f"{split} templates, {names_key[10:]} names, {order}", p, a, b)

    print(f"model {os.path.abspath(args.model)}; forward: {used}")
    print(f"{'set':58s} {'n':>5s} {'prefers':>8s} {'top1':>6s} {'top1 in pair':>12s} {'mean LD':>8s}")
    summary = {}
    for key, r in results.items():
        n = r["n"]
        summary[key] = {"n": n, "prefers_correct": r["prefers_correct"] / n, "top1_correct": r["top1_correct"] / n,
                        "top1_in_pair": r["top1_either"] / n, "mean_logit_diff": r["ld_sum"] / n}
        s = summary[key]
        print(f"{key:58s} {n:5d} {s['prefers_correct']:8.3f} {s['top1_correct']:6.3f} {s['top1_in_pair']:12.3f} "
              f"{s['mean_logit_diff']:8.2f}")
    print("\nexamples (prompt | correct | wrong | top-1):")
    for key, (p, c, wr, top) in examples.items():
        print(f"  [{key}] {p!r} | {c} | {wr} | {top!r}")
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(summary, f, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
