"""Tidies an .ipynb written by dotnet-repl before it becomes HTML: dotnet-repl writes every update of a display
as a new output, so the package-restore progress ("Installing Packages....") repeats; only its final state is kept.
Cells also get the ids newer nbformat versions expect."""
import json
import os
import sys
import uuid

path = sys.argv[1]
notebook = json.load(open(path, encoding="utf-8"))
removed = 0
for cell in notebook.get("cells", []):
    cell.setdefault("id", uuid.uuid4().hex[:12])
    outputs = cell.get("outputs")
    if not outputs:
        continue
    kept = []
    for output in outputs:
        html = output.get("data", {}).get("text/html", "")
        html = "".join(html) if isinstance(html, list) else html
        if output.get("output_type") == "display_data" and "<strong>Installing Packages</strong>" in html:
            removed += 1
            continue
        kept.append(output)
    cell["outputs"] = kept
notebook["nbformat"], notebook["nbformat_minor"] = 4, max(5, notebook.get("nbformat_minor", 5))
# Write beside it and rename, so an interruption never leaves a half-written notebook under its name.
temporary = path + ".tmp"
with open(temporary, "w", encoding="utf-8") as out:
    json.dump(notebook, out, indent=1, ensure_ascii=False)
os.replace(temporary, path)
print(f"   tidied: dropped {removed} intermediate restore-progress outputs", file=sys.stderr)
