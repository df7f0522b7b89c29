# Two commands do all the set-up: `make demo` and `make test` (each builds/refreshes .venv first).
.PHONY: setup demo test test-all

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/chipcrew ask "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?"

test: setup
	.venv/bin/python -m pytest

test-all: setup
	.venv/bin/python -m pytest -m "slow or not slow"
