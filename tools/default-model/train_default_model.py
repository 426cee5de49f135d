#!/usr/bin/env python3
"""Train ActScale's default model, data/models/actscale-capitals-ioi (GPT-2 architecture, real GPT-2 BPE).

Retrain with tools/default-model/retrain, which runs this script into a temporary folder, then the acceptance
test (tools/acceptance), and replaces the shipped model only when the test passes. Directly:
    /usr/bin/python3 tools/default-model/train_default_model.py [--steps N] [--seed S] [--device cuda] [--out DIR]
Needs only PyTorch (Debian's python3-torch 1.13, or any 2.x for --device cuda) and the repo's data/ folder; rewrites
data/lists/templates.json.

Corpus (tools/default-model/corpus.py, generated on the fly from data/lists with a fixed seed): 20% facts in 5
  phrasings, 30% CCC conflicts (soft target: context capital with a probability set by the cue word, 0.30-0.70),
  8% CCC with an agreeing context, 34% IOI (10 opener/verb wordings of one layout, ABBA/BABA, every name, soft
  target with 12% on the subject), 8% name sentences. Every slot follows a space and takes single-token fillers.
Model: n_layer 3, n_embd 64, n_head 4, n_positions 64, MLP 256, gelu_new, pre-LN, tied LM head, vocab 50257.
  Weights exported as F16 safetensors (HF GPT-2 names, Conv1D [in, out] layout), 8.2 MB with the tokenizer.
Training: seed 1, AdamW (lr 3e-3, betas 0.9/0.98, weight decay 0.05 on matrices), warm-up over the first 10%
  of steps (at most 300) then cosine decay to 10%, 4000 steps of 64 texts (padded, loss on every real next
  token), torch.set_num_threads(1) (one thread ran faster than two on the shared 2-core CPU).
  Measured on the CPU (4000 steps): 108 s alone on the quiet 2-core machine (0.027 s/step), 293 s with two trainings
  at once, 399 s at load 7, 1102 s at load 10-16; the acceptance test takes 2-10 minutes more.
  The SHIPPED model is this command's CPU run (seed 1, one thread): a retrain on this kind of CPU reproduces it bit
  for bit (the same model.safetensors sha256; checked 2026-11-25). The outcome of the recipe depends on the seed much
  more than on its knobs: of 19 CPU seeds screened, few steer IOI as well as seed 1 (data/models/actscale-capitals-ioi/
  README.md lists every run). --device cuda gives another model again (the H100 run of seed 1 was shipped before).
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

SEED = 1
STEPS = 4000
CFG = dict(n_layer=3, n_embd=64, n_head=4, n_positions=64, vocab_size=50257, layer_norm_epsilon=1e-5)


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
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool, device=ids.device), 1)
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
    """Padded batches (ids, targets, soft): soft holds, per row, the position whose target is soft (-1 if none), the
    alternative answer's id and its probability."""
    rng = random.Random(seed)
    samples = [corpus.sample(rng) for _ in range(n_texts)]
    seqs = [[vocab_map[i] for i in tok.encode(text)] for text, _, _ in samples]
    out = []
    for s in range(0, n_texts - batch + 1, batch):
        chunk = seqs[s:s + batch]
        T = max(len(x) for x in chunk)
        ids = torch.zeros(batch, T, dtype=torch.long)
        tgt = torch.full((batch, T), -100, dtype=torch.long)
        soft_pos = torch.full((batch,), -1, dtype=torch.long)
        soft_alt = torch.zeros(batch, dtype=torch.long)
        soft_p = torch.zeros(batch)
        for r, x in enumerate(chunk):
            ids[r, :len(x)] = torch.tensor(x)
            tgt[r, :len(x) - 1] = torch.tensor(x[1:])
            soft = samples[s + r][2]
            if soft is not None:
                answer, alternative, p = soft
                answer_id = vocab_map[tok.encode(" " + answer)[0]]
                soft_pos[r] = max(i for i, t in enumerate(x) if t == answer_id) - 1  # the position that predicts it
                soft_alt[r] = vocab_map[tok.encode(" " + alternative)[0]]
                soft_p[r] = p
        out.append((ids, tgt, (soft_pos, soft_alt, soft_p)))
    return out


def corpus_loss(logits, tgt, soft):
    """Mean next-token cross-entropy; at soft positions the target is (1 - p) answer + p alternative."""
    soft_pos, soft_alt, soft_p = soft
    logp = logits.log_softmax(-1)
    mask = tgt >= 0
    nll = -logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask
    rows = (soft_pos >= 0).nonzero().squeeze(-1)
    if len(rows):
        at = logp[rows, soft_pos[rows]]
        answer = tgt[rows, soft_pos[rows]]
        # -(1-p) log q(answer) - p log q(alt) = -log q(answer) + p (log q(answer) - log q(alt))
        shift = soft_p[rows] * (at.gather(-1, answer.unsqueeze(-1)).squeeze(-1) - at.gather(-1, soft_alt[rows].unsqueeze(-1)).squeeze(-1))
        return (nll.sum() + shift.sum()) / mask.sum()
    return nll.sum() / mask.sum()


def quick_eval(model, corpus, tok, vocab_map):
    """Restricted-vocabulary check on a few prompts (the acceptance test measures the exported model)."""
    model.eval()
    rng = random.Random(7)
    res = {"fact": [0, 0], "ccc_ctx": [0, 0], "ioi_test": [0, 0]}

    device = model.wpe.device

    def prefers(prompt, good, bad):
        lg = model(torch.tensor([[vocab_map[i] for i in tok.encode(prompt)]], device=device))[0, -1]
        return int(lg[vocab_map[tok.encode(" " + good)[0]]] > lg[vocab_map[tok.encode(" " + bad)[0]]])

    with torch.no_grad():
        for _ in range(60):
            country, capital = rng.choice(corpus.countries)
            other = rng.choice([c for _, c in corpus.countries if c != capital])
            res["fact"][0] += prefers(rng.choice(C.FACT_EVAL).format(country=country), capital, other)
            res["ccc_ctx"][0] += prefers(rng.choice(C.CCC_TEST).format(country=country, context_capital=other), other, capital)
            a, b = rng.sample(corpus.names, 2)
            t = C.ioi_orders(rng.choice(C.IOI_TEST))[rng.choice(["ABBA", "BABA"])]
            res["ioi_test"][0] += prefers(t.format(A=a, B=b, place=rng.choice(C.PLACES), object=rng.choice(C.OBJECTS)), a, b)
            for v in res.values():
                v[1] += 1
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


def export(model, vocab_ids, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    model = model.cpu()
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
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--init-seed", type=int, help="seed of the weights' initialisation alone (default: --seed, which "
                    "also draws the corpus and its batches); separates the two sources of run-to-run variation")
    ap.add_argument("--layers", type=int, default=CFG["n_layer"])
    ap.add_argument("--width", type=int, default=CFG["n_embd"])
    ap.add_argument("--threads", type=int, default=1, help="1 measured faster than 2 on the shared 2-core CPU")
    ap.add_argument("--device", default="cpu", help="cpu (the recorded runs) or cuda; results differ in the last bits between them")
    ap.add_argument("--cue-rates", help="LOW,HIGH: context-answer rates of the cue words, spaced evenly from 'book' (LOW) to "
                    "'story' (HIGH); default " + ",".join(str(r) for r in C.CUE_RANGE))
    ap.add_argument("--out", default=os.path.join(C.REPO, "data", "models", "actscale-capitals-ioi"))
    ap.add_argument("--context-rate", type=float, help="one context-answer rate for every cue word (default: the "
                    "graded rates of corpus.CUES); 0.5 is the best candidate so far, see data/models/actscale-capitals-ioi/README.md")
    ap.add_argument("--ioi-noise", type=float, default=C.IOI_LABEL_NOISE, help="the IOI soft target's probability on the subject")
    ap.add_argument("--no-templates-json", action="store_true", help="do not rewrite data/lists/templates.json")
    args = ap.parse_args()
    CFG["n_layer"], CFG["n_embd"] = args.layers, args.width

    t0 = time.time()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    if not args.no_templates_json:
        C.write_templates_json()
    tok = C.Gpt2Tokenizer()
    cue_range = tuple(float(x) for x in args.cue_rates.split(",")) if args.cue_rates else C.CUE_RANGE
    corpus = C.Corpus(args.seed, context_rate=args.context_rate, cue_range=cue_range, ioi_noise=args.ioi_noise)
    vocab_ids = sorted({i for t in C.all_texts_for_vocab(corpus) for i in tok.encode(t)})
    vocab_map = {i: j for j, i in enumerate(vocab_ids)}
    print(f"corpus vocabulary: {len(vocab_ids)} token ids", flush=True)
    batches = make_batches(corpus, tok, vocab_map, args.steps * args.batch, args.batch, args.seed + 1)
    print(f"{len(batches)} batches ready ({time.time() - t0:.0f}s)", flush=True)

    device = torch.device(args.device)
    torch.manual_seed(args.seed if args.init_seed is None else args.init_seed)
    model = SmallVocabGpt2(len(vocab_ids), CFG["vocab_size"] - len(vocab_ids)).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    warm = min(300, len(batches) // 10)

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        prog = (step - warm) / max(1, len(batches) - warm)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * prog)))

    t_train = time.time()
    running = None
    for step, (ids, tgt, soft) in enumerate(batches):
        ids, tgt, soft = ids.to(device), tgt.to(device), tuple(t.to(device) for t in soft)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(ids)
        loss = corpus_loss(logits, tgt, soft)
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
        hs = torch.cat([model.hidden(ids.to(device)).reshape(-1, CFG["n_embd"])[tgt.to(device).reshape(-1) >= 0] for ids, tgt, _ in batches[-20:]])
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
