# Two commands do all the set-up: `make demo` and `make test` (each builds/refreshes .venv first).
# Set-up is quiet (its log: .venv/setup.log); `make demo` prints the answer and its file paths only.
.PHONY: setup demo test test-all eval-gate

setup:
	@bash scripts/setup.sh

demo: setup
	@.venv/bin/chipcrew ask "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?"

test: setup
	.venv/bin/python -m pytest

test-all: setup
	.venv/bin/python -m pytest -m "slow or not slow"

# Quality gates on the agent eval suites (CI runs these after the tests).
eval-gate: setup
	.venv/bin/chipcrew eval run --suite routing --split heldout --out .eval/routing \
		--fail-under routing.accuracy=0.95 --fail-under routing.abstention_recall=0.95
	.venv/bin/chipcrew eval run --suite routing_general --split heldout --out .eval/routing_general \
		--fail-under routing_general.accuracy=0.97 --fail-under routing_general.answer_rate=0.98 \
		--fail-under routing_general.abstention_recall=0.95
	.venv/bin/chipcrew eval run --suite tools --out .eval/tools \
		--fail-under tools.tool_accuracy=0.96 --fail-under tools.arg_accuracy=0.95
	.venv/bin/chipcrew eval run --suite conversations --out .eval/conversations \
		--fail-under conversations.fully_right=0.9
