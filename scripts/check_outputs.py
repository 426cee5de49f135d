"""Checks that an executed quickstart-like notebook shows what the notebook layer promises: at least one Plotly.NET
heatmap, at least one Deedle frame drawn as a table, and no note that Deedle frames are unavailable (which would mean
the FSharp.Core resolver did not apply in this host). Exits 1 and says what is missing otherwise.
    python3 scripts/check_outputs.py reports/NAME.ipynb"""
import json
import sys

path = sys.argv[1]
notebook = json.load(open(path, encoding="utf-8"))


def joined(value):
    return "".join(value) if isinstance(value, list) else (value or "")


outputs = [output for cell in notebook.get("cells", []) for output in cell.get("outputs", [])]
texts = [joined(o.get("data", {}).get("text/html")) + joined(o.get("data", {}).get("text/plain")) + joined(o.get("text")) for o in outputs]
checks = {
    "a Plotly.NET heatmap": any('"type":"heatmap"' in t and "Plotly.newPlot" in t for t in texts),
    "a Deedle frame table": any('class="actscale-frame"' in t for t in texts),
    "no Deedle fallback note": not any("No Deedle frames" in t for t in texts),
}
for what, ok in checks.items():
    print(f"   {'ok' if ok else 'MISSING'}: {what}", file=sys.stderr)
sys.exit(0 if all(checks.values()) else 1)
