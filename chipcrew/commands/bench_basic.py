"""``chipcrew bench router``, ``mixpe`` and ``llm``: benchmarks whose only options are where and how big."""

from __future__ import annotations

import importlib

from chipcrew.commands import terminal
from chipcrew.commands.bench import JsonOpt, OutOpt, QuickOpt, show

__all__ = ("router", "mixpe", "llm")


def _run(module: str, out: OutOpt, quick: bool, as_json: bool) -> None:
    from tools.common import run_dir

    bench = importlib.import_module(module)
    folder = out or run_dir(None, f"bench_{bench.NAME}")
    with terminal.run_folder(folder), terminal.progress_bar(log=not as_json) as progress:
        result = bench.run_bench(folder, quick=quick, progress=progress)
    show(result, bench.to_markdown, as_json, folder / f"bench_{bench.NAME}.json")


def router(out: OutOpt = None, quick: QuickOpt = False, as_json: JsonOpt = False) -> None:
    """Router accuracy, false refusals, out-of-scope recall and latency on both routing sets."""
    _run("eval.bench_router", out, quick, as_json)


def mixpe(out: OutOpt = None, quick: QuickOpt = False, as_json: JsonOpt = False) -> None:
    """MixPE perf/energy model vs the authors' simulator, and the bit-exact GEMM check."""
    _run("eval.bench_mixpe", out, quick, as_json)


def llm(out: OutOpt = None, quick: QuickOpt = False, as_json: JsonOpt = False) -> None:
    """Embedded SmolLM2: reply time with a full prefill vs the kept prefix cache, per system prompt."""
    _run("eval.bench_llm", out, quick, as_json)
