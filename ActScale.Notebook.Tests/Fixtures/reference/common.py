"""Shared helpers of the family references: a safetensors reader and RoPE in Hugging Face's rotate_half layout.

Plain PyTorch (Debian's python3-torch 1.13 works); everything is computed in float64.
"""
import json, math, struct
import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        t = torch.frombuffer(bytearray(data[start:end]), dtype=DTYPES[meta["dtype"]])
        out[name] = t.reshape(meta["shape"]).to(torch.float64)
    return out


def inverse_frequencies(rotary_dim, theta, scaling):
    """HF _compute_default_rope_parameters, then the 'linear' or 'llama3' adjustment."""
    inv = 1.0 / (theta ** (torch.arange(0, rotary_dim, 2, dtype=torch.float64) / rotary_dim))
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / scaling["factor"]
    if kind == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        out = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = (wavelen >= old / high) & (wavelen <= old / low)
        return torch.where(medium, smoothed, out)
    raise ValueError(kind)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, inv, rotary_dim):
    """x: [heads, T, head_dim]; rotates the first rotary_dim features (partial rotary passes the rest)."""
    T = x.shape[1]
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    rot = rot * emb.cos() + rotate_half(rot) * emb.sin()
    return torch.cat((rot, rest), dim=-1)


def causal_attention(q, k, v):
    """q: [H, T, hd], k/v: [H, T, hd] (already repeated for grouped heads)."""
    T, hd = q.shape[1], q.shape[2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    scores = scores.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
    return scores.softmax(-1) @ v


def main(forward):
    import sys
    folder, ids = sys.argv[1], [int(a) for a in sys.argv[2:]]
    cfg = json.load(open(f"{folder}/config.json"))
    w = read_safetensors(f"{folder}/model.safetensors")
    with torch.no_grad():
        logits, resid = forward(cfg, w, torch.tensor(ids))
    print(json.dumps({"ids": ids, "logits": logits.tolist(), "resid_post": resid}))
