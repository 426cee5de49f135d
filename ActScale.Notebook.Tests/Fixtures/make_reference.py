#!/usr/bin/env python3
"""Writes a parity fixture: the independent PyTorch reference's logits for a checkpoint, on a fixed prompt.

    /usr/bin/python3 make_reference.py CHECKPOINT_DIR OUT.json ID ID ...

Runs ../shared/reference/gpt2_logits.py (plain PyTorch, Hugging Face GPT-2 semantics; Debian's python3-torch)
and keeps every position's logits for every 97th vocabulary id plus the last position's full row, and each
block's residual output, so the fixture stays small while covering the whole vocabulary range.
"""
import json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
reference = os.path.join(here, "..", "..", "..", "shared", "reference", "gpt2_logits.py")
folder, out, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = subprocess.run([sys.executable, reference, folder, *ids, "--layers"], check=True, capture_output=True, text=True).stdout
result = json.loads(raw)
vocab = len(result["logits"][0])
columns = list(range(0, vocab, 97))
fixture = {
    "source": "shared/reference/gpt2_logits.py (PyTorch " + __import__("torch").__version__ + ")",
    "ids": result["ids"],
    "columns": columns,
    "logits_subset": [[row[c] for c in columns] for row in result["logits"]],
    "last_logits": result["logits"][-1],
    "resid_post_last": [layer[-1] for layer in result["resid_post"]],
}
json.dump(fixture, open(out, "w"))
