"""Start-up benchmark of the command line: each command as a whole new process, against its time budget.

A user pays the start-up of Python, the imports and the command's own set-up on every call, so each probe
runs ``chipcrew ...`` as a fresh subprocess several times (interleaved with the other probes, so a burst of
load on a shared machine hits them all alike) and reports the median wall time beside ``python -c pass``
measured in the same run. The budgets are the ones issue 15 set for the CLI.

Run: ``chipcrew bench startup [--runs 5] [--out DIR] [--chipcrew "CMD"]`` (``--chipcrew`` times another
install, e.g. an older checkout's ``.venv/bin/chipcrew``, with the same probes).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.common import ProgressFn, report

__all__ = ("NAME", "DESCRIPTION", "PROBES", "Probe", "chipcrew_command", "run_bench", "to_markdown")

NAME = "startup"
DESCRIPTION = "CLI start-up: --help, agents --json, route --json, ask (backend none) as whole processes vs budgets"

MIXPE_QUESTION = "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?"


@dataclass(frozen=True)
class Probe:
    """One command line to time."""

    label: str
    args: tuple[str, ...]
    """Arguments after ``chipcrew`` (empty with ``python``: the interpreter alone)."""
    budget_s: float | None
    """Median wall time allowed. In seconds; ``None`` for the reference row."""
    env: dict[str, str] = field(default_factory=dict)
    python: bool = False
    """Run ``python -c pass`` instead of ``chipcrew``: what any Python program pays before its first import."""


PROBES: tuple[Probe, ...] = (
    Probe("python -c pass", ("-c", "pass"), None, python=True),
    Probe("chipcrew --help", ("--help",), 0.5),
    Probe("chipcrew agents --json", ("agents", "--json"), 1.0),
    Probe(
        'chipcrew route "simulate M1_test3 at the defocus corner" --json',
        ("route", "simulate M1_test3 at the defocus corner", "--json"),
        3.0,
    ),
    Probe(
        'chipcrew ask "<MixPE W4A8 vs INT8, OPT-6.7B>" (CHIPCREW_LLM_BACKEND=none)',
        ("ask", MIXPE_QUESTION),
        5.0,
        {"CHIPCREW_LLM_BACKEND": "none"},
    ),
)


def chipcrew_command() -> list[str]:
    """The installed console script beside this interpreter, or ``python -m chipcrew.cli`` without one."""
    script = Path(sys.executable).with_name("chipcrew")
    return [str(script)] if script.exists() else [sys.executable, "-m", "chipcrew.cli"]


def _time_once(argv: Sequence[str], env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    return seconds, proc.returncode, proc.stderr[-2000:]


def run_bench(
    out_dir: Path,
    quick: bool = False,
    progress: ProgressFn | None = None,
    runs: int | None = None,
    chipcrew: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Time every probe ``runs`` times (default 5; quick 3) and write ``bench_startup.json``.

    Args:
        out_dir: folder for the JSON; the probes' own run folders go to ``out_dir/home`` (``CHIPCREW_HOME``).
        chipcrew: the command that starts the CLI; default :func:`chipcrew_command`.
    """
    runs = runs or (3 if quick else 5)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = chipcrew_command() if chipcrew is None else list(chipcrew)
    env = {**os.environ, "CHIPCREW_HOME": str(out_dir / "home")}
    times: dict[str, list[float]] = {p.label: [] for p in PROBES}
    failures: dict[str, str] = {}
    total = runs * len(PROBES)
    for r in range(runs):
        for i, probe in enumerate(PROBES):
            report(progress, probe.label, (r * len(PROBES) + i) / total)
            argv = [sys.executable, *probe.args] if probe.python else [*base, *probe.args]
            seconds, code, stderr = _time_once(argv, {**env, **probe.env})
            times[probe.label].append(seconds)
            if code != 0 or "Traceback" in stderr:
                failures.setdefault(probe.label, f"exit {code}: {stderr.strip().splitlines()[-1] if stderr.strip() else ''}")
    report(progress, "startup", 1.0)
    rows = []
    for probe in PROBES:
        median = statistics.median(times[probe.label])
        ok = probe.label not in failures and (probe.budget_s is None or median <= probe.budget_s)
        rows.append({
            "command": probe.label,
            "median_s": median,
            "min_s": min(times[probe.label]),
            "budget_s": probe.budget_s,
            "pass": ok,
            "error": failures.get(probe.label),
            "seconds": times[probe.label],
        })
    result = {"runs": runs, "chipcrew": base, "python": sys.executable, "rows": rows, "all_pass": all(r["pass"] for r in rows)}
    (out_dir / "bench_startup.json").write_text(json.dumps(result, indent=2))
    return result


def to_markdown(result: dict[str, Any]) -> str:
    """One row per command: median and fastest of the runs, the budget, pass or fail."""
    lines = [
        f"median of {result['runs']} runs, each a new process",
        "",
        "| command | median s | min s | budget s | pass |",
        "|---|---:|---:|---:|---|",
    ]
    for row in result["rows"]:
        budget = "–" if row["budget_s"] is None else f"{row['budget_s']:.1f}"
        verdict = "yes" if row["pass"] else ("FAIL: " + row["error"] if row["error"] else "FAIL")
        lines.append(f"| {row['command']} | {row['median_s']:.2f} | {row['min_s']:.2f} | {budget} | {verdict} |")
    return "\n".join(lines)
