"""Read ``summary.json`` files: a flat metric table, the difference between two runs, and CI gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.common import InputError

__all__ = ("load_summary", "flatten", "format_table", "format_confusion", "check_gates", "parse_gate")


def load_summary(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        raise InputError("run", str(run_dir), "a folder written by 'chipcrew eval run' (it holds summary.json)")
    return json.loads(path.read_text(encoding="utf-8"))


def flatten(summary: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves as ``suite.metric`` (``routing.accuracy``, ``routing.heldout.accuracy``)."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            out[name] = float(value)
        elif isinstance(value, dict) and key not in ("confusion", "tiers"):
            out.update(flatten(value, name + "."))
    return out


def format_table(a: dict[str, float], b: dict[str, float] | None = None) -> str:
    """A markdown table of metrics; with ``b``, the second run and the difference (b − a)."""
    names = sorted(set(a) | set(b or {}))
    if b is None:
        rows = ["| metric | value |", "|---|---:|"] + [f"| {n} | {a[n]:.4g} |" for n in names]
    else:
        rows = ["| metric | run A | run B | B − A |", "|---|---:|---:|---:|"]
        for n in names:
            va, vb = a.get(n), b.get(n)
            diff = f"{vb - va:+.4g}" if va is not None and vb is not None else "–"
            rows.append(f"| {n} | {'–' if va is None else f'{va:.4g}'} | {'–' if vb is None else f'{vb:.4g}'} | {diff} |")
    return "\n".join(rows)


def format_confusion(summary: dict[str, Any]) -> str:
    """The routing confusion matrix (rows: expected agent, columns: routed to), or "" without a routing suite."""
    confusion = summary.get("routing", {}).get("confusion")
    if not confusion:
        return ""
    cols = sorted({p for row in confusion.values() for p in row})
    lines = ["| expected \\ routed | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for expected in sorted(confusion):
        lines.append(f"| {expected} | " + " | ".join(str(confusion[expected].get(c, 0)) for c in cols) + " |")
    return "\n".join(lines)


def parse_gate(text: str) -> tuple[str, float]:
    """``metric=value`` -> (metric, value)."""
    name, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise InputError("--fail-under", text, "metric=value, e.g. routing.accuracy=0.9") from None


def check_gates(metrics: dict[str, float], gates: list[tuple[str, float]]) -> list[str]:
    """Failed gates as messages; an unknown metric is a failure that lists the known ones."""
    failures = []
    for name, floor in gates:
        if name not in metrics:
            failures.append(f"{name}: no such metric; known: {', '.join(sorted(metrics))}")
        elif metrics[name] < floor:
            failures.append(f"{name} = {metrics[name]:.4g} is under {floor:.4g}")
    return failures
