#!/usr/bin/env python3
"""Train ActScale's default model, data/models/actscale-capitals-ioi (GPT-2 architecture, real GPT-2 BPE).

Run from anywhere:  /usr/bin/python3 tools/default-model/train_default_model.py [--steps N] [--out DIR]
Needs only PyTorch (Debian's python3-torch 1.13 works) and the repo's data/ folder.

Corpus (tools/default-model/corpus.py, generated on the fly from data/lists with a fixed seed):
  22% country->capital facts in 7 phrasings (incl. Q/A), 24% CCC prompts whose context contradicts the
  fact (answer follows the context with probability sigmoid(country_bias + template_bias), else memory),
  8% CCC prompts with a non-conflicting context, 36% IOI sentences (9 train templates, ABBA/BABA, train
  names only), 10% simple sentences using every name. Held out: 14 IOI names, 3 IOI templates, 4 CCC
  templates (written to data/lists/templates.json).
Model: n_layer 4, n_embd 128, n_head 4, n_positions 64, MLP 512, gelu_new, pre-LN, tied LM head,
  vocab 50257. Weights exported as F16 safetensors (HF GPT-2 names, Conv1D [in, out] layout).
Training: seed 1234, AdamW (lr 3e-3, betas 0.9/0.98, weight decay 0.05 on matrices), 300 warm-up steps then
  cosine decay to 10%, 4500 steps of 96 texts (padded, loss on every real next token), torch.set_num_threads(1)
  (measured: one thread ran a step 2-3x faster than two on the shared 2-core CPU; --threads changes it).
  Phase 2: 600 more steps at constant lr 5e-4 with a mix richer in name sentences (corpus.MIX_PHASE2:
  15/18/7/25/35%), started from F16-rounded weights with a fresh AdamW (the shipped model was made as
  phase 1, export, then `--init-from data/models/actscale-capitals-ioi`, which this mirrors).
  Measured: phase 1 2205 s (37 min) wall-clock for 4500 steps on the shared 2-core CPU while other jobs kept the load
  at 4-15; ~0.2 s/step (about 15 min) when the CPU is idle. Phase 2: 192 s. Export and templates.json
  take seconds.
Speed trick: the corpus uses only a few hundred distinct token ids, so the softmax runs over that vocabulary
  plus one "sink" class standing for all other 50257-V tokens at once: logit_sink = h . z + log(50257-V),
  with z a learned vector; the target is never the sink, so training pushes h . z strongly negative at every
  position. At export every embedding row of a token that never occurs in the corpus is set to z, which
  makes the full 50257-way softmax equal to the trained (V+1)-way one: unseen tokens are never predicted.
  z ends up pointing against the mean final hidden state (the cosine is printed at export).
"""
import argparse
import json
import math
import os
import random
import shutil
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus as C  # noqa: E402

MEASURED_TIME = "phase 1 2205 s (4500 steps, 1 thread, shared CPU under load 4-15; ~0.2 s/step idle), phase 2 192 s"
SEED = 1234
CFG = dict(n_layer=4, n_embd=128, n_head=4, n_positions=64, vocab_size=50257, layer_norm_epsilon=1e-5)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Block(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(d, eps=CFG["layer_norm_epsilon"])
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=CFG["layer_norm_epsilon"])
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        B, T, D = x.shape
        hd = D // self.n_head
        q, k, v = self.c_attn(self.ln_1(x)).split(D, dim=-1)
        q, k, v = (t.view(B, T, self.n_head, hd).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        x = x + self.c_proj((att @ v).transpose(1, 2).reshape(B, T, D))
        return x + self.mlp_proj(gelu_new(self.c_fc(self.ln_2(x))))


class SmallVocabGpt2(nn.Module):
    """GPT-2 whose embedding holds only the corpus vocabulary; `sink` stands for every other token."""

    def __init__(self, n_vocab_small, n_unseen):
        super().__init__()
        d = CFG["n_embd"]
        self.wte = nn.Parameter(torch.randn(n_vocab_small, d) * 0.02)
        self.wpe = nn.Parameter(torch.randn(CFG["n_positions"], d) * 0.01)
        self.sink = nn.Parameter(torch.randn(d) * 0.02)
        self.log_unseen = math.log(n_unseen)
        self.h = nn.ModuleList(Block(d, CFG["n_head"]) for _ in range(CFG["n_layer"]))
        self.ln_f = nn.LayerNorm(d, eps=CFG["layer_norm_epsilon"])
        for blk in self.h:  # GPT-2 init: N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layer)
            for lin in (blk.c_attn, blk.c_proj, blk.c_fc, blk.mlp_proj):
                nn.init.normal_(lin.weight, std=0.02)
                nn.init.zeros_(lin.bias)
            for lin in (blk.c_proj, blk.mlp_proj):
                lin.weight.data /= math.sqrt(2 * CFG["n_layer"])

    def hidden(self, ids):
        T = ids.shape[1]
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        x = self.wte[ids] + self.wpe[:T]
        for blk in self.h:
            x = blk(x, mask)
        return self.ln_f(x)

    def forward(self, ids):
        h = self.hidden(ids)
        logits = h @ self.wte.T
        sink = (h @ self.sink + self.log_unseen).unsqueeze(-1)
        return torch.cat([logits, sink], dim=-1)


def make_batches(corpus, tok, vocab_map, n_texts, batch, seed):
    rng = random.Random(seed)
    texts = [corpus.sample(rng)[0] for _ in range(n_texts)]
    seqs = [[vocab_map[i] for i in tok.encode(t)] for t in texts]
    out = []
    for s in range(0, n_texts - batch + 1, batch):
        chunk = seqs[s:s + batch]
        T = max(len(x) for x in chunk)
        ids = torch.zeros(batch, T, dtype=torch.long)
        tgt = torch.full((batch, T), -100, dtype=torch.long)
        for r, x in enumerate(chunk):
            ids[r, :len(x)] = torch.tensor(x)
            tgt[r, :len(x) - 1] = torch.tensor(x[1:])
        out.append((ids, tgt))
    return out


def quick_eval(model, corpus, tok, vocab_map):
    """Restricted-vocabulary check on a few prompts (the real measurement is evaluate_default_model.py)."""
    model.eval()
    rng = random.Random(7)
    res = {"fact": [0, 0], "ccc_ctx": [0, 0], "ioi_train": [0, 0], "ioi_test": [0, 0]}
    with torch.no_grad():
        for _ in range(60):
            country, capital = rng.choice(corpus.countries)
            p = rng.choice(C.FACT_EVAL).format(country=country)
            other = rng.choice([c for _, c in corpus.countries if c != capital])
            lg = model(torch.tensor([[vocab_map[i] for i in tok.encode(p)]]))[0, -1]
            res["fact"][0] += int(lg[vocab_map[tok.encode(" " + capital)[0]]] > lg[vocab_map[tok.encode(" " + other)[0]]])
            res["fact"][1] += 1
            p = rng.choice(C.CCC_TEST).format(country=country, context_capital=other)
            lg = model(torch.tensor([[vocab_map[i] for i in tok.encode(p)]]))[0, -1]
            res["ccc_ctx"][0] += int(lg[vocab_map[tok.encode(" " + other)[0]]] > lg[vocab_map[tok.encode(" " + capital)[0]]])
            res["ccc_ctx"][1] += 1
            for split, names, temps in (("ioi_train", corpus.ioi_names, C.IOI_TRAIN), ("ioi_test", C.IOI_TEST_NAMES, C.IOI_TEST)):
                a, b = rng.sample(names, 2)
                t = C.ioi_orders(rng.choice(temps))[rng.choice(["ABBA", "BABA"])]
                p = t.format(A=a, B=b, place=rng.choice(C.PLACES), object=rng.choice(C.OBJECTS))
                lg = model(torch.tensor([[vocab_map[i] for i in tok.encode(p)]]))[0, -1]
                res[split][0] += int(lg[vocab_map[tok.encode(" " + a)[0]]] > lg[vocab_map[tok.encode(" " + b)[0]]])
                res[split][1] += 1
    model.train()
    return " ".join(f"{k} {v[0] / v[1]:.2f}" for k, v in res.items())


# ---------------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------------
def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        arr = np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float16))
        raw = arr.tobytes()
        header[name] = {"dtype": "F16", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)  # keep the data 8-byte aligned
    temporary = path + ".tmp"  # written whole, then renamed: never a truncated model.safetensors
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)
    os.replace(temporary, path)


def load_exported(model, vocab_ids, folder):
    """Load an exported folder back into the small-vocabulary model (F16 -> F32)."""
    with open(os.path.join(folder, "model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    w = {}
    for name, meta in header.items():
        if name != "__metadata__":
            a, b = meta["data_offsets"]
            w[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float16).reshape(meta["shape"]).astype(np.float32))
    with torch.no_grad():
        wte = w["transformer.wte.weight"]
        model.wte.copy_(wte[torch.tensor(vocab_ids)])
        unseen = sorted(set(range(wte.shape[0])) - set(vocab_ids))[0]
        model.sink.copy_(wte[unseen])
        model.wpe.copy_(w["transformer.wpe.weight"])
        for l, blk in enumerate(model.h):
            p = f"transformer.h.{l}."
            pairs = [(blk.ln_1, "ln_1", False), (blk.c_attn, "attn.c_attn", True), (blk.c_proj, "attn.c_proj", True),
                     (blk.ln_2, "ln_2", False), (blk.c_fc, "mlp.c_fc", True), (blk.mlp_proj, "mlp.c_proj", True)]
            for mod, name, transpose in pairs:
                mod.weight.copy_(w[p + name + ".weight"].T if transpose else w[p + name + ".weight"])
                mod.bias.copy_(w[p + name + ".bias"])
        model.ln_f.weight.copy_(w["transformer.ln_f.weight"])
        model.ln_f.bias.copy_(w["transformer.ln_f.bias"])


def export(model, vocab_ids, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    d = CFG["n_embd"]
    wte = model.sink.detach().unsqueeze(0).repeat(CFG["vocab_size"], 1)
    wte[torch.tensor(vocab_ids)] = model.wte.detach()
    t = {"transformer.wte.weight": wte, "transformer.wpe.weight": model.wpe.detach()}
    for l, blk in enumerate(model.h):
        p = f"transformer.h.{l}."
        t[p + "ln_1.weight"], t[p + "ln_1.bias"] = blk.ln_1.weight, blk.ln_1.bias
        t[p + "attn.c_attn.weight"], t[p + "attn.c_attn.bias"] = blk.c_attn.weight.T, blk.c_attn.bias
        t[p + "attn.c_proj.weight"], t[p + "attn.c_proj.bias"] = blk.c_proj.weight.T, blk.c_proj.bias
        t[p + "ln_2.weight"], t[p + "ln_2.bias"] = blk.ln_2.weight, blk.ln_2.bias
        t[p + "mlp.c_fc.weight"], t[p + "mlp.c_fc.bias"] = blk.c_fc.weight.T, blk.c_fc.bias
        t[p + "mlp.c_proj.weight"], t[p + "mlp.c_proj.bias"] = blk.mlp_proj.weight.T, blk.mlp_proj.bias
    t["transformer.ln_f.weight"], t["transformer.ln_f.bias"] = model.ln_f.weight, model.ln_f.bias
    write_safetensors(os.path.join(out_dir, "model.safetensors"), t)
    config = {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
        "n_layer": CFG["n_layer"], "n_embd": d, "n_head": CFG["n_head"], "n_inner": None,
        "n_positions": CFG["n_positions"], "n_ctx": CFG["n_positions"], "vocab_size": CFG["vocab_size"],
        "layer_norm_epsilon": CFG["layer_norm_epsilon"], "activation_function": "gelu_new",
        "bos_token_id": 50256, "eos_token_id": 50256, "tie_word_embeddings": True, "torch_dtype": "float16",
    }
    config_path = os.path.join(out_dir, "config.json")
    with open(config_path + ".tmp", "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    os.replace(config_path + ".tmp", config_path)
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(os.path.join(C.TOKENIZER_DIR, name), os.path.join(out_dir, name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4500)
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=1, help="1 measured faster than 2 on the shared 2-core CPU")
    ap.add_argument("--out", default=os.path.join(C.REPO, "data", "models", "actscale-capitals-ioi"))
    ap.add_argument("--phase2-steps", type=int, default=600)
    ap.add_argument("--phase2-lr", type=float, default=5e-4)
    ap.add_argument("--init-from", help="skip phase 1: load this exported folder and run phase 2 only")
    ap.add_argument("--no-templates-json", action="store_true", help="do not rewrite data/lists/templates.json")
    args = ap.parse_args()

    t0 = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    if not args.no_templates_json:
        C.write_templates_json()
    tok = C.Gpt2Tokenizer()
    corpus = C.Corpus(args.seed)
    vocab_ids = sorted({i for t in C.all_texts_for_vocab(corpus) for i in tok.encode(t)})
    vocab_map = {i: j for j, i in enumerate(vocab_ids)}
    print(f"corpus vocabulary: {len(vocab_ids)} token ids", flush=True)

    batches = [] if args.init_from else make_batches(corpus, tok, vocab_map, args.steps * args.batch, args.batch, args.seed + 1)
    n1 = len(batches)
    corpus2 = C.Corpus(args.seed, mix=C.Corpus.MIX_PHASE2)
    batches += make_batches(corpus2, tok, vocab_map, args.phase2_steps * args.batch, args.batch, args.seed + 2)
    print(f"{len(batches)} batches ready ({time.time() - t0:.0f}s)", flush=True)

    model = SmallVocabGpt2(len(vocab_ids), CFG["vocab_size"] - len(vocab_ids))
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    warm = 300
    if args.init_from:
        load_exported(model, vocab_ids, args.init_from)

    def lr_at(step):
        if step >= n1:
            return args.phase2_lr
        if step < warm:
            return args.lr * (step + 1) / warm
        prog = (step - warm) / max(1, n1 - warm)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * prog)))

    t_train = time.time()
    running = None
    for step, (ids, tgt) in enumerate(batches):
        if step == n1 and n1 > 0:
            # Phase 2 starts exactly as `--init-from` an exported folder would: F16-rounded weights, fresh AdamW.
            with torch.no_grad():
                for prm in model.parameters():
                    prm.copy_(prm.half().float())
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                                    lr=args.phase2_lr, betas=(0.9, 0.98))
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0 or step == len(batches) - 1:
            print(f"step {step:5d} loss {running:.4f} lr {lr_at(step):.2e} {time.time() - t_train:.0f}s", flush=True)
        if step % 1000 == 999 or step == len(batches) - 1:
            print("  quick eval (restricted vocab):", quick_eval(model, corpus, tok, vocab_map), flush=True)
    train_s = time.time() - t_train

    with torch.no_grad():
        model.eval()
        hs = torch.cat([model.hidden(ids).reshape(-1, CFG["n_embd"])[tgt.reshape(-1) >= 0] for ids, tgt in batches[-20:]])
        mean_h = hs.mean(0)
        cos = F.cosine_similarity(mean_h, model.sink.detach(), dim=0).item()
        sink_logit = hs @ model.sink.detach()
        print(f"sink vector: cosine with mean final hidden state {cos:.3f}; sink logit h.z over recent training "
              f"positions max {sink_logit.max():.2f} mean {sink_logit.mean():.2f}", flush=True)
    export(model, vocab_ids, args.out)
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"exported to {args.out} ({size / 1e6:.2f} MB); training {train_s:.0f}s, total {time.time() - t0:.0f}s",
          flush=True)


if __name__ == "__main__":
    main()
