"""Benchmark of the router: accuracy and per-request latency on the routing dataset, after start-up.

Start-up (loading MiniLM, embedding the example utterances) is timed apart from the per-request decisions.
Run: ``chipcrew bench router [--out DIR] [--quick]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents import registry
from chipcrew.settings import Settings
from graphs.router import Router
from tools.common import package_versions

from .schema import load_cases
from .scorers import latency_stats, routing_scores

NAME = "router"
DESCRIPTION = "Tiered router: accuracy, abstention and per-request latency on eval/datasets/routing.jsonl"

__all__ = ("NAME", "DESCRIPTION", "run_bench", "to_markdown")


def run_bench(
    out_dir: Path,
    quick: bool = False,
    progress: Callable[[str, float], None] | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Route every case with the router ``settings`` describe (default: ``Settings()``, env vars and TOML)."""
    start = time.perf_counter()
    agents = registry()
    router = Router.from_settings(settings or Settings(), agents)
    startup = time.perf_counter() - start
    cases = load_cases("routing")
    if quick:
        cases = cases[::3]
    expected, predicted, seconds, slowest = [], [], [], ("", 0.0)
    for i, case in enumerate(cases):
        t0 = time.perf_counter()
        decision = router.route(case.request)
        dt = time.perf_counter() - t0
        seconds.append(dt)
        slowest = max(slowest, (case.request, dt), key=lambda x: x[1])
        expected.append(case.expected_agent if case.expected_agent in agents else None)
        predicted.append(decision.agent)
        if progress:
            progress("routing", (i + 1) / len(cases))
    scores = routing_scores(expected, predicted)
    result = {
        "n": len(cases),
        "startup_s": startup,
        **latency_stats(seconds),
        "max_ms": 1000 * slowest[1],
        "slowest_request": slowest[0],
        **{k: scores[k] for k in ("accuracy", "abstention_precision", "abstention_recall", "wrong_agent_rate")},
        "registered": list(agents),
        "versions": package_versions("torch", "transformers"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench_router.json").write_text(json.dumps(result, indent=2))
    return result


def to_markdown(result: dict[str, Any]) -> str:
    rows = [
        ("requests", f"{result['n']}"),
        ("start-up (load embedder, embed examples)", f"{result['startup_s']:.2f} s"),
        ("latency p50 / p95 / max", f"{result['p50_ms']:.1f} / {result['p95_ms']:.1f} / {result['max_ms']:.1f} ms"),
        ("accuracy", f"{result['accuracy']:.3f}"),
        ("abstention precision / recall", f"{result['abstention_precision']:.3f} / {result['abstention_recall']:.3f}"),
        ("wrong-agent rate", f"{result['wrong_agent_rate']:.3f}"),
    ]
    return "\n".join(["| router | value |", "|---|---:|"] + [f"| {a} | {b} |" for a, b in rows])
