"""Benchmark of the router: accuracy, false refusals, out-of-scope recall and per-request latency, on the
project's routing set and on the independently written ``routing_general`` set, after start-up; and the
classifier's cross-validated accuracy on the utterance bank it is trained on.

Start-up (loading MiniLM, reading back the bank's vectors and the classifier's weights) is timed apart from the
per-request decisions. Run: ``chipcrew bench router [--out DIR] [--quick]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agents import registry
from chipcrew.settings import Settings
from graphs.route_classifier import cross_validate
from graphs.router import Router
from tools.common import package_versions

from .schema import load_cases, router_bank
from .scorers import latency_stats, routing_scores

NAME = "router"
DESCRIPTION = (
    "Router: accuracy, false refusals, out-of-scope recall and latency on eval/datasets/routing.jsonl and "
    "routing_general.jsonl; cross-validated accuracy of the classifier on its utterance bank"
)
SETS = ("routing", "routing_general")
METRICS = ("accuracy", "false_refusal_rate", "abstention_recall", "abstention_precision", "wrong_agent_rate")

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
    jobs = [(name, split, case) for name in SETS for split in ("dev", "heldout") for case in load_cases(name, split)]
    if quick:
        jobs = jobs[::3]
    outcomes: dict[tuple[str, str], tuple[list[str | None], list[str | None]]] = {}
    seconds, slowest = [], ("", 0.0)
    for i, (name, split, case) in enumerate(jobs):
        t0 = time.perf_counter()
        decision = router.route(case.request)
        dt = time.perf_counter() - t0
        seconds.append(dt)
        slowest = max(slowest, (case.request, dt), key=lambda x: x[1])
        expected, predicted = outcomes.setdefault((name, split), ([], []))
        expected.append(case.expected_agent if case.expected_agent in agents else None)
        predicted.append(decision.agent)
        if progress:
            progress("routing", (i + 1) / len(jobs))
    sets = {}
    for (name, split), (expected, predicted) in sorted(outcomes.items()):
        scores = routing_scores(expected, predicted)
        sets[f"{name}/{split}"] = {"n": scores["n"], **{k: scores[k] for k in METRICS}}
    bank = router_bank(agents)
    lexical = np.array([router.lexical_counts(t) for t in bank], np.float32)
    result = {
        "n": len(jobs),
        "startup_s": startup,
        **latency_stats(seconds),
        "max_ms": 1000 * slowest[1],
        "slowest_request": slowest[0],
        "sets": sets,
        "bank_utterances": len(bank),
        "bank_cv_accuracy": cross_validate(router.bank, lexical),
        "registered": list(agents),
        "versions": package_versions("numpy", "scikit-learn"),
    }
    heldout = sets.get("routing/heldout") or next(iter(sets.values()))
    result.update({k: heldout[k] for k in ("accuracy", "abstention_precision", "abstention_recall", "wrong_agent_rate")})
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench_router.json").write_text(json.dumps(result, indent=2))
    return result


def to_markdown(result: dict[str, Any]) -> str:
    rows = [
        ("requests routed", f"{result['n']}"),
        ("start-up (load embedder, read bank vectors and classifier)", f"{result['startup_s']:.2f} s"),
        ("latency p50 / p95 / max", f"{result['p50_ms']:.1f} / {result['p95_ms']:.1f} / {result['max_ms']:.1f} ms"),
        ("classifier 5-fold CV accuracy on the bank", f"{result['bank_cv_accuracy']:.3f} ({result['bank_utterances']} utterances)"),
    ]
    lines = ["| router | value |", "|---|---:|"] + [f"| {a} | {b} |" for a, b in rows]
    lines += ["", "| set / split | n | accuracy | false refusals | out-of-scope recall | abstention precision | wrong agent |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in result["sets"].items():
        lines.append(
            f"| {name} | {s['n']} | {s['accuracy']:.3f} | {s['false_refusal_rate']:.3f} | {s['abstention_recall']:.3f} "
            f"| {s['abstention_precision']:.3f} | {s['wrong_agent_rate']:.3f} |"
        )
    return "\n".join(lines)
