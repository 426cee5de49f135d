"""Converts a Polyglot notebook (.dib) into a Jupyter notebook (.ipynb) for the .NET Interactive C# kernel, so the same
notebook runs under `jupyter nbconvert --execute`.
    python3 scripts/dib_to_ipynb.py notebooks/NAME.dib OUT.ipynb
A .dib is a sequence of sections, each opened by a line `#!KERNEL` naming one of the kernels its `#!meta` header
lists (other lines starting with `#!`, such as `#!actscale`, are cell text)."""
import json
import sys

source, target = sys.argv[1], sys.argv[2]
lines = open(source, encoding="utf-8").read().splitlines()
if not lines or lines[0].strip() != "#!meta":
    sys.exit(f"{source}: not a .dib notebook (its first line should be #!meta)")

sections, current, kernels = [], None, {"meta"}
for line in lines:
    marker = line.strip()
    if marker.startswith("#!") and " " not in marker and marker[2:] in kernels:
        current = (marker[2:], [])
        sections.append(current)
        continue
    current[1].append(line)
    if current[0] == "meta" and line.strip().startswith("{"):
        kernels = {item["name"] for item in json.loads(line)["kernelInfo"]["items"]} | {"meta"}


def text(body):
    while body and not body[0].strip():
        body = body[1:]
    while body and not body[-1].strip():
        body = body[:-1]
    return "\n".join(body)


cells = []
for kernel, body in sections:
    if kernel == "meta" or not text(body):
        continue
    if kernel == "markdown":
        cells.append({"cell_type": "markdown", "metadata": {}, "source": text(body)})
    else:
        magic = "" if kernel == "csharp" else f"#!{kernel}\n"
        cells.append({"cell_type": "code", "execution_count": None, "metadata": {"dotnet_interactive": {"language": kernel}},
                      "outputs": [], "source": magic + text(body)})
for index, cell in enumerate(cells):
    cell["id"] = f"cell-{index}"

notebook = {
    "cells": cells,
    "metadata": {
        "kernelspec": {"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"},
        "language_info": {"name": "C#", "file_extension": ".cs", "mimetype": "text/x-csharp", "pygments_lexer": "csharp"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
with open(target, "w", encoding="utf-8") as out:
    json.dump(notebook, out, indent=1, ensure_ascii=False)
