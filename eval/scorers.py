"""Deterministic scorers, pure functions over recorded outcomes.

Argument matching follows the Berkeley Function-Calling Leaderboard's AST checker in spirit (Yan et al. 2024):
strings compared after normalisation (case, spaces, punctuation), numbers within a tolerance, an argument may be
omitted only when the empty string is among its acceptable values, and unexpected arguments fail the call.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

__all__ = (
    "routing_scores",
    "match_value",
    "tool_call_scores",
    "tool_suite_scores",
    "conversation_scores",
    "trajectory_match",
    "resolve_path",
    "check_passes",
    "pass_hat_k",
    "latency_stats",
)

NONE = "none"


def routing_scores(expected: Sequence[str | None], predicted: Sequence[str | None]) -> dict[str, Any]:
    """Accuracy, the confusion matrix (expected -> predicted -> count) and abstention precision/recall.

    Abstention (predicting no agent) is scored as a detector of out-of-scope requests: precision = abstentions
    that were right / all abstentions; recall = out-of-scope requests abstained on / all out-of-scope requests.
    The false-refusal rate counts in-scope requests refused (no agent) among all in-scope requests, apart from
    accuracy, which also counts the wrong agent; ``answer_rate`` is its complement (for ``--fail-under`` gates).
    """
    if len(expected) != len(predicted):
        raise ValueError(f"expected and predicted differ in length ({len(expected)} vs {len(predicted)})")
    pairs = [(e or NONE, p or NONE) for e, p in zip(expected, predicted)]
    confusion: dict[str, dict[str, int]] = {}
    for e, p in pairs:
        confusion.setdefault(e, Counter())[p] += 1  # type: ignore[arg-type]
    abstained = [e for e, p in pairs if p == NONE]
    out_of_scope = [p for e, p in pairs if e == NONE]
    in_scope = [p for e, p in pairs if e != NONE]
    refused = sum(p == NONE for p in in_scope) / len(in_scope) if in_scope else 0.0
    n = len(pairs)
    return {
        "n": n,
        "accuracy": sum(e == p for e, p in pairs) / n if n else 0.0,
        "abstention_precision": sum(e == NONE for e in abstained) / len(abstained) if abstained else 1.0,
        "abstention_recall": sum(p == NONE for p in out_of_scope) / len(out_of_scope) if out_of_scope else 1.0,
        "wrong_agent_rate": sum(p not in (e, NONE) for e, p in pairs) / n if n else 0.0,
        "false_refusal_rate": refused,
        "answer_rate": 1.0 - refused,
        "confusion": {e: dict(c) for e, c in confusion.items()},
    }


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-./]+", "", text.strip().lower())


def match_value(got: Any, acceptable: Sequence[Any], tolerance: float = 1e-6) -> bool:
    """Whether ``got`` equals one of ``acceptable`` (normalised strings, numbers within relative tolerance)."""
    for want in acceptable:
        if isinstance(want, bool) or isinstance(got, bool):
            if got is want:
                return True
        elif isinstance(want, (int, float)) and isinstance(got, (int, float)):
            if math.isclose(float(got), float(want), rel_tol=tolerance, abs_tol=tolerance):
                return True
        elif isinstance(want, str) and isinstance(got, str):
            if _norm(got) == _norm(want):
                return True
        elif isinstance(want, list) and isinstance(got, list):
            if sorted(_norm(str(g)) for g in got) == sorted(_norm(str(w)) for w in want):
                return True
        elif got == want:
            return True
    return False


def tool_call_scores(
    expected_tool: str, expected_args: dict[str, list[Any]], got_tool: str | None, got_args: dict[str, Any], tolerance: float
) -> dict[str, Any]:
    """Per-call result: tool-name match, per-argument matches, and whether the whole call is right."""
    per_arg: dict[str, bool] = {}
    for name, acceptable in expected_args.items():
        if name not in got_args:
            per_arg[name] = "" in acceptable
        else:
            per_arg[name] = match_value(got_args[name], [a for a in acceptable if a != ""], tolerance)
    unexpected = sorted(set(got_args) - set(expected_args))
    name_ok = got_tool == expected_tool
    return {
        "tool_ok": name_ok,
        "args_ok": per_arg,
        "unexpected_args": unexpected,
        "call_ok": name_ok and all(per_arg.values()) and not unexpected,
    }


def _rate(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def tool_suite_scores(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Tool choice, argument and whole-call accuracy of scored tool cases, overall and per kind (the case id's
    prefix before the first '-', e.g. ``sign``, ``stem``, ``cmp``).

    A call is right when its tool and every expected argument match, it has no unexpected argument, and it passes
    validation exactly when the case says it must (a stated value the tool cannot take must fail, not be dropped).
    """

    def block(part: Sequence[dict[str, Any]]) -> dict[str, Any]:
        args = [ok for r in part for ok in r.get("args_ok", {}).values()]
        must_pass = [r for r in part if r.get("expected_valid", True)]
        return {
            "n": len(part),
            "tool_accuracy": _rate([r.get("tool_ok", False) for r in part]),
            "arg_accuracy": _rate(args),
            "call_accuracy": _rate([r["ok"] for r in part]),
            "validation_failure_rate": _rate([not r.get("valid", False) for r in must_pass]),
            "refusal_accuracy": _rate([not r.get("valid", True) for r in part if not r.get("expected_valid", True)]),
        }

    out = block(rows)
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(str(r.get("id", "")).split("-", 1)[0], []).append(r)
    out["kinds"] = {kind: block(part) for kind, part in sorted(groups.items())}
    return out


def conversation_scores(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Multi-turn cases: the share fully right (every turn's agent, tool, arguments and validity), and per turn the
    agent, tool and argument accuracy."""
    turns = [t for r in rows for t in r.get("turns", [])]
    args = [ok for t in turns for ok in t.get("args_ok", {}).values()]
    return {
        "fully_right": _rate([r["ok"] for r in rows]),
        "turns": len(turns),
        "turn_accuracy": _rate([t["ok"] for t in turns]),
        "agent_accuracy": _rate([t.get("agent_ok", False) for t in turns]),
        "tool_accuracy": _rate([t.get("tool_ok", False) for t in turns]),
        "arg_accuracy": _rate(args),
    }


def trajectory_match(
    expected: Sequence[str], got: Sequence[str], mode: Literal["strict", "unordered", "subset", "superset"] = "strict"
) -> bool:
    """Compare visited graph nodes: same sequence, same multiset, ``got`` within ``expected``, or containing it."""
    if mode == "strict":
        return list(expected) == list(got)
    if mode == "unordered":
        return Counter(expected) == Counter(got)
    if mode == "subset":
        return not (Counter(got) - Counter(expected))
    if mode == "superset":
        return not (Counter(expected) - Counter(got))
    raise ValueError(f"mode: {mode!r} is not one of strict, unordered, subset, superset")


def resolve_path(obj: Any, path: str) -> Any:
    """Follow a dotted path through dicts and lists (``result.metrics.l2``, ``tool_calls.0.tool``)."""
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(part)]
        elif isinstance(obj, dict):
            obj = obj[part]
        else:
            raise KeyError(path)
    return obj


def check_passes(turn: dict[str, Any], path: str, op: str, value: Any) -> bool:
    """One task check against the turn's JSON; a missing path fails the check."""
    try:
        got = resolve_path(turn, path)
    except (KeyError, IndexError, ValueError, TypeError):
        return False
    if op == "contains":
        return str(value).lower() in str(got).lower()
    if op == "not_contains":
        return str(value).lower() not in str(got).lower()
    if op == "in":
        return got in value
    if op == "==":
        return got == value
    if op == "!=":
        return got != value
    try:
        return {"<=": got <= value, ">=": got >= value, "<": got < value, ">": got > value}[op]
    except TypeError:
        return False


def pass_hat_k(successes: Sequence[Sequence[bool]], k: int) -> float:
    """pass^k (Yao et al., tau-bench 2024): the chance that k i.i.d. trials of a case all succeed, averaged over
    cases, estimated per case as C(c, k) / C(n, k) from c successes in n trials."""
    if not successes:
        return 0.0
    vals = []
    for trials in successes:
        n, c = len(trials), sum(trials)
        if n < k:
            raise ValueError(f"k={k} exceeds the {n} trials recorded for a case")
        vals.append(math.comb(c, k) / math.comb(n, k))
    return sum(vals) / len(vals)


def latency_stats(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean latency in milliseconds (nearest-rank percentiles)."""
    if not seconds:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0}
    ordered = sorted(seconds)

    def pct(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "mean_ms": 1000 * sum(ordered) / len(ordered)}
