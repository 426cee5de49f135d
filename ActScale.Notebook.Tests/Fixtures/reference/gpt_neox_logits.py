#!/usr/bin/env python3
"""Independent GPT-NeoX (Pythia) reference: next-token logits of a HF checkpoint folder.

Follows Hugging Face's GPTNeoXForCausalLM semantics: LayerNorm; the fused query_key_value output viewed as
[T, heads, 3 * head_size] and split per head into q | k | v; rotary (rotate_half layout) on the first
int(head_size * rotary_pct) features of each head with base rotary_emb_base, the rest passed through;
attention scaled by 1/sqrt(head_size); dense output; GELU (erf) MLP; with use_parallel_residual
x + attn(ln1(x)) + mlp(ln2(x)), otherwise sequential; final_layer_norm; untied embed_out.

    /usr/bin/python3 gpt_neox_logits.py CHECKPOINT_DIR ID ID ...   -> JSON {"ids", "logits", "resid_post"}
"""
import torch
from common import apply_rope, causal_attention, inverse_frequencies, main


def forward(cfg, w, ids):
    eps = cfg.get("layer_norm_eps", 1e-5)
    H, d = cfg["num_attention_heads"], cfg["hidden_size"]
    hs = d // H
    rd = int(hs * cfg.get("rotary_pct", 0.25))
    inv = inverse_frequencies(rd, cfg.get("rotary_emb_base", 10000), None)
    T = len(ids)
    ln = lambda x, n: torch.nn.functional.layer_norm(x, (d,), w[n + ".weight"], w[n + ".bias"], eps)
    lin = lambda x, n: x @ w[n + ".weight"].T + w[n + ".bias"]

    def attention(h, p):
        qkv = lin(h, p + "attention.query_key_value").view(T, H, 3 * hs).transpose(0, 1)
        q, k, v = qkv[..., :hs], qkv[..., hs:2 * hs], qkv[..., 2 * hs:]
        q, k = apply_rope(q, inv, rd), apply_rope(k, inv, rd)
        return lin(causal_attention(q, k, v).transpose(0, 1).reshape(T, d), p + "attention.dense")

    def mlp(h, p):
        return lin(torch.nn.functional.gelu(lin(h, p + "mlp.dense_h_to_4h")), p + "mlp.dense_4h_to_h")

    x = w["gpt_neox.embed_in.weight"][ids]
    resid = []
    for l in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}."
        if cfg.get("use_parallel_residual", True):
            x = x + attention(ln(x, p + "input_layernorm"), p) + mlp(ln(x, p + "post_attention_layernorm"), p)
        else:
            x = x + attention(ln(x, p + "input_layernorm"), p)
            x = x + mlp(ln(x, p + "post_attention_layernorm"), p)
        resid.append(x[-1].tolist())
    x = ln(x, "gpt_neox.final_layer_norm")
    return x @ w["embed_out.weight"].T, resid


if __name__ == "__main__":
    main(forward)
