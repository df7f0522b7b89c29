"""The benchmark registry behind ``chipcrew bench list`` and ``chipcrew bench all``.

Each module listed here exposes ``NAME``, ``DESCRIPTION``, ``run_bench(out_dir, quick, progress) -> dict`` and
``to_markdown(result) -> str``. The case loops live in those modules, once.
"""

from __future__ import annotations

import importlib
import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from tools.common import InputError

__all__ = ("BENCHMARK_MODULES", "benchmarks", "run_all")

BENCHMARK_MODULES: tuple[str, ...] = (
    "eval.bench_startup",
    "eval.bench_router",
    "eval.bench_mixpe",
    "eval.bench_litho",
    "eval.bench_opc",
    "eval.bench_recipe",
    "eval.bench_docqa",
    "eval.bench_gnn",
    "eval.bench_analog",
    "eval.bench_compress",
    "eval.bench_web",
    "eval.bench_llm",
)


def benchmarks() -> dict[str, ModuleType]:
    mods = [importlib.import_module(m) for m in BENCHMARK_MODULES]
    return {m.NAME: m for m in mods}


def run_all(
    out_dir: Path, quick: bool = True, only: list[str] | None = None, progress: Callable[[str, float], None] | None = None
) -> dict[str, Any]:
    """Run every benchmark (or ``only`` these) into ``out_dir/<name>/``; write ``report.md`` and ``report.json``.

    A benchmark that fails is recorded with its error and the others still run.
    """
    registry = benchmarks()
    names = only or list(registry)
    for name in names:
        if name not in registry:
            raise InputError("benchmark", name, list(registry))
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"quick": quick, "benchmarks": {}}
    sections = [f"# ChipCrew benchmarks ({'quick' if quick else 'full'})", ""]
    for i, name in enumerate(names):
        mod = registry[name]
        start = time.perf_counter()
        try:
            result = mod.run_bench(out_dir / name, quick=quick, progress=progress)
            entry = {"ok": True, "seconds": time.perf_counter() - start, "result": result}
            body = mod.to_markdown(result)
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            entry = {"ok": False, "seconds": time.perf_counter() - start, "error": f"{type(exc).__name__}: {exc}",
                     "traceback": traceback.format_exc()}
            body = f"**failed**: `{entry['error']}`"
        report["benchmarks"][name] = entry
        sections += [f"## {name}: {mod.DESCRIPTION}", "", body, "", *_figures(out_dir, name), f"_{entry['seconds']:.1f} s_", ""]
        (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=str))
        (out_dir / "report.md").write_text("\n".join(sections))
        if progress:
            progress(f"bench {name}", (i + 1) / len(names))
    return report


def _figures(out_dir: Path, name: str) -> list[str]:
    """Markdown image lines for the PNGs a benchmark wrote under ``out_dir/name``, relative to the report."""
    return [f"![{png.stem}]({png.relative_to(out_dir).as_posix()})\n" for png in sorted((out_dir / name).rglob("*.png"))]
