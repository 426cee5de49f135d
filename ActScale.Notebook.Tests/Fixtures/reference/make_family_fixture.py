#!/usr/bin/env python3
"""Writes a family parity fixture: a reference's logits for a checkpoint folder on a fixed prompt.

    /usr/bin/python3 make_family_fixture.py {llama|gpt_neox} CHECKPOINT_DIR OUT.json ID ID ...

Keeps every position's logits for every 7th vocabulary id, the last position's full row and each block's
residual output at the last position (the fixture vocabularies are 300 ids, so this stays small).
"""
import json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
family, folder, out, ids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
script = os.path.join(here, f"{family}_logits.py")
result = json.loads(subprocess.run([sys.executable, script, folder, *ids], check=True, capture_output=True, text=True).stdout)
columns = list(range(0, len(result["logits"][0]), 7))
json.dump({
    "source": f"Fixtures/reference/{family}_logits.py (PyTorch {__import__('torch').__version__}, float64)",
    "ids": result["ids"],
    "columns": columns,
    "logits_subset": [[row[c] for c in columns] for row in result["logits"]],
    "last_logits": result["logits"][-1],
    "resid_post_last": result["resid_post"],
}, open(out, "w"))
