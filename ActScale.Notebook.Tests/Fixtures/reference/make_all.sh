#!/bin/sh
# Rewrites the tiny family checkpoints and their reference logits (run from the repository root):
#   dotnet artifacts/bin/ActScale.Notebook.Tests/release/ActScale.Notebook.Tests.dll write-family-fixtures
#   sh ActScale.Notebook.Tests/Fixtures/reference/make_all.sh
set -e
here=$(dirname "$0")
fixtures="$here/.."
ids="5 17 200 42 299 3 88 150 256 261 1"   # FamilyFixtures.Prompt
for pair in llama:tiny-llama llama:tiny-qwen2 gpt_neox:tiny-gpt-neox gpt_neox:tiny-gpt-neox-sequential; do
  family=${pair%%:*}; name=${pair#*:}
  /usr/bin/python3 "$here/make_family_fixture.py" "$family" "$fixtures/$name" "$fixtures/$name.reference.json" $ids
done
