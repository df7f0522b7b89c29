"""A cached data set of evaluated layouts: random knob settings, each placed with several placement seeds.

LLANA's surrogate study fits its models on a fixed set of evaluated layouts; the optimisation study needs a
black box smooth enough for a model to learn. Both read this set. Each row is one knob vector (uniform in the
unit cube, drawn from one generator, so a longer set extends a shorter one) evaluated with placement seeds
0..S-1; keeping every seed's CMRR and offset lets a study score one seed (the raw, rugged black box) or the
mean over seeds (the smoothed one: the expected metric over the placer's randomness).

The set lives as JSON under the cache folder, keyed by circuit, knob box, layout options and seeds, and is
written after every row, so an interrupted build keeps what it simulated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tools.analog.problem import BASES, Problem
from tools.common import InputError, ProgressFn, report

__all__ = ("LayoutSet", "layout_set", "seed_boxes", "set_points", "set_scores")


@dataclass
class LayoutSet:
    """``unit`` (n, d) knob points; ``cmrr_db`` and ``offset_v`` (n, S) per placement seed (NaN: no result)."""

    circuit: str
    knobs: list[str]
    unit: np.ndarray
    cmrr_db: np.ndarray
    offset_v: np.ndarray
    seconds: float

    def to_json(self) -> dict:
        nan = lambda a: [[None if np.isnan(v) else float(v) for v in row] for row in a]
        return {"circuit": self.circuit, "knobs": self.knobs, "unit": self.unit.tolist(), "cmrr_db": nan(self.cmrr_db),
                "offset_v": nan(self.offset_v), "seconds": self.seconds}

    @classmethod
    def from_json(cls, d: dict) -> LayoutSet:
        arr = lambda a: np.array([[np.nan if v is None else v for v in row] for row in a], dtype=float)
        unit = np.array(d["unit"], dtype=float).reshape(-1, len(d["knobs"]))
        return cls(d["circuit"], d["knobs"], unit, arr(d["cmrr_db"]), arr(d["offset_v"]), d["seconds"])


def set_scores(data: LayoutSet, metric: str, seeds: int | None = None, base: float | None = None) -> np.ndarray:
    """Per-row LLANA-style score (lower is better) of ``metric`` (``cmrr`` or ``offset``) averaged over the
    first ``seeds`` placement seeds (all by default); ``base`` replaces LLANA's base. NaN where any seed failed."""
    if metric not in BASES:
        raise InputError("metric", metric, tuple(BASES))
    s = data.cmrr_db.shape[1] if seeds is None else seeds
    values = data.cmrr_db[:, :s] if metric == "cmrr" else np.abs(data.offset_v[:, :s])
    default, sign = BASES[metric]
    b = default if base is None else base
    return sign * (values.mean(axis=1) - b) / b


def _key(problem: Problem, seeds: int, seed: int) -> str:
    """The set's name: circuit, knob box, layout options, the model cards by content (a cache folder elsewhere
    finds the same set), seeds and the knob draw."""
    cards = hashlib.sha1(problem.lib.path.read_bytes()).hexdigest()
    text = json.dumps([problem.circuit.name, problem.space.low, problem.space.high, repr(problem.options),
                       cards, problem.lib.nmos, problem.lib.pmos, seeds, seed])
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def set_points(problem: Problem, n: int, seed: int = 0) -> np.ndarray:
    """The set's first ``n`` knob points (n, d) in the unit cube: one generator, so a longer set extends a shorter one."""
    return np.random.default_rng(seed).uniform(size=(n, problem.space.dim))


def seed_boxes(problem: Problem, seeds: int) -> list[Problem]:
    """``problem`` once per placement seed 0..seeds-1, one placement per evaluation each: the set's black boxes
    (with a store, another process can simulate rows ahead of ``layout_set`` through them)."""
    return [replace(problem, options=replace(problem.options, placement_seed=s), cache={}, folder=problem.folder / f"seed{s}",
                    placement_seeds=1)
            for s in range(seeds)]


def layout_set(problem: Problem, n: int, seeds: int, cache: Path, seed: int = 0, progress: ProgressFn | None = None) -> LayoutSet:
    """The first ``n`` rows of the set for ``problem``'s circuit, simulating only rows not cached yet.

    Args:
        problem: the black box (its ``options.placement_seed`` is replaced by 0..seeds-1).
        n: rows wanted; seeds: placement seeds per row; cache: folder of the JSON files; seed: the knob draw.
    """
    if n < 1:
        raise InputError("n", n, "at least 1 layout")
    if seeds < 1:
        raise InputError("seeds", seeds, "at least 1 placement seed")
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"analog_layouts_{problem.circuit.name}_{_key(problem, seeds, seed)}.json"
    dim = problem.space.dim
    if path.exists():
        data = LayoutSet.from_json(json.loads(path.read_text()))
    else:
        data = LayoutSet(problem.circuit.name, list(problem.space.names), np.zeros((0, dim)), np.zeros((0, seeds)),
                         np.zeros((0, seeds)), 0.0)
    points, boxes = set_points(problem, n, seed), seed_boxes(problem, seeds)
    for i in range(len(data.unit), n):
        trials = [box(points[i], "dataset") for box in boxes]
        cm = [t.performance.cmrr_db if t.converged and t.performance.cmrr_db is not None else np.nan for t in trials]
        off = [t.performance.offset_v if t.converged and t.performance.offset_v is not None else np.nan for t in trials]
        data.unit = np.vstack([data.unit, trials[0].unit])
        data.cmrr_db, data.offset_v = np.vstack([data.cmrr_db, cm]), np.vstack([data.offset_v, off])
        data.seconds += sum(t.seconds for t in trials)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data.to_json()))
        tmp.replace(path)
        report(progress, f"layout set: {i + 1}/{n} knob settings x {seeds} placement seeds", (i + 1) / n)
    return LayoutSet(data.circuit, data.knobs, data.unit[:n], data.cmrr_db[:n], data.offset_v[:n], data.seconds)
