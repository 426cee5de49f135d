#!/usr/bin/env python3
"""Independent Llama-family reference (Llama 2/3, Qwen2, Mistral): next-token logits of a HF checkpoint folder.

Follows Hugging Face's LlamaForCausalLM / Qwen2ForCausalLM semantics: RMSNorm (x / sqrt(mean x^2 + eps) * w),
q/k/v projections (Qwen2 always with biases, Llama with attention_bias), RoPE in the rotate_half layout with
rope_theta and rope_scaling, grouped-query attention by repeat_kv (query head h reads KV head h // n_rep),
o_proj, SwiGLU MLP down(silu(gate(x)) * up(x)), final norm, lm_head or the tied embedding.

    /usr/bin/python3 llama_logits.py CHECKPOINT_DIR ID ID ...   -> JSON {"ids", "logits", "resid_post"}
"""
import torch
from common import apply_rope, causal_attention, inverse_frequencies, main


def forward(cfg, w, ids):
    eps = cfg.get("rms_norm_eps", 1e-6)
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    d = cfg["hidden_size"]
    hd = cfg.get("head_dim") or d // H
    rd = int(hd * cfg.get("partial_rotary_factor", 1.0))
    inv = inverse_frequencies(rd, cfg.get("rope_theta", 10000.0), cfg.get("rope_scaling"))
    qwen = cfg["model_type"] == "qwen2"
    qkv_bias = qwen or cfg.get("attention_bias", False)
    o_bias = (not qwen) and cfg.get("attention_bias", False)
    T = len(ids)

    def rms(x, name):
        return w[name] * (x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def lin(x, name, bias):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if bias else y

    x = w["model.embed_tokens.weight"][ids]
    resid = []
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, p + "input_layernorm.weight")
        q = lin(h, p + "self_attn.q_proj", qkv_bias).view(T, H, hd).transpose(0, 1)
        k = lin(h, p + "self_attn.k_proj", qkv_bias).view(T, KV, hd).transpose(0, 1)
        v = lin(h, p + "self_attn.v_proj", qkv_bias).view(T, KV, hd).transpose(0, 1)
        q, k = apply_rope(q, inv, rd), apply_rope(k, inv, rd)
        rep = H // KV
        k = k[:, None].expand(KV, rep, T, hd).reshape(H, T, hd)   # repeat_kv
        v = v[:, None].expand(KV, rep, T, hd).reshape(H, T, hd)
        z = causal_attention(q, k, v).transpose(0, 1).reshape(T, H * hd)
        x = x + lin(z, p + "self_attn.o_proj", o_bias)
        h = rms(x, p + "post_attention_layernorm.weight")
        gate, up = lin(h, p + "mlp.gate_proj", False), lin(h, p + "mlp.up_proj", False)
        x = x + lin(torch.nn.functional.silu(gate) * up, p + "mlp.down_proj", False)
        resid.append(x[-1].tolist())
    x = rms(x, "model.norm.weight")
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return x @ head.T, resid


if __name__ == "__main__":
    main(forward)
