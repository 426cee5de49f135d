"""Prints the failed cells of an executed .ipynb and exits 1 when there is any (0 otherwise)."""
import json
import sys

notebook = json.load(open(sys.argv[1], encoding="utf-8"))
failed = 0
for index, cell in enumerate(notebook.get("cells", [])):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            failed += 1
            source = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
            print(f"   cell {index + 1} failed: {source.strip().splitlines()[0] if source.strip() else ''}", file=sys.stderr)
            print(f"      {output.get('ename', '')}: {output.get('evalue', '')[:500]}", file=sys.stderr)
print(f"   {failed} failed cell(s)" if failed else "   every cell succeeded", file=sys.stderr)
sys.exit(1 if failed else 0)
