"""The black box every optimiser sees: knob values -> placement -> routes -> parasitics -> ngspice -> score.

Scores follow LLANA's problem definition (README of shared/data/analog: ``obj`` = [CMRR, Offset],
``obj_val`` = [80 dB, 1 mV], ``gl`` = [max, min]): score = sign * (x - base) / base with sign -1 for a
maximised metric, so lower is better for both; ``both`` adds the two. Offset enters as |offset|.

A ``KnobSpace`` maps the unit cube onto the knob ranges and prints values with as many decimals as the
range needs (two significant digits of resolution: [0, 5] gives 2.35, [0, 0.5] gives 0.250), so that the
numbers an LLM sees are the numbers that were evaluated; every evaluated point is rounded to those decimals.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from tools.analog.circuits import Circuit
from tools.analog.extraction import extract
from tools.analog.layout import Cell, build_cells
from tools.analog.models import ModelLibrary
from tools.analog.placer import Placement, place
from tools.analog.routing import NetRoute, route
from tools.analog.spice import Parasitics, Performance, SimOutcome, simulate
from tools.analog.store import EvalStore, StoredEval
from tools.analog.tech import Technology
from tools.common import InputError

__all__ = (
    "BASES",
    "OBJECTIVES",
    "POST_LAYOUT_BASES",
    "KnobSpace",
    "LayoutEval",
    "LayoutOptions",
    "Objective",
    "Problem",
    "Trial",
    "evaluate_layout",
    "llana_score",
    "objective_text",
)

Objective = Literal["cmrr", "offset", "both"]
OBJECTIVES: tuple[str, ...] = ("cmrr", "offset", "both")
BASES = {"cmrr": (80.0, -1.0), "offset": (1e-3, 1.0)}
"""metric -> (base, sign): LLANA's obj_val and the sign of its gl (max -> -1, min -> +1)."""


POST_LAYOUT_BASES = {"OTA_XT_MAGICAL": {"cmrr": 105.0, "offset": 0.1e-3}, "OTA_5T": {"cmrr": 91.0, "offset": 2.1e-3}}
"""circuit -> bases where it sits after layout, rounded medians of random knob settings x 3 placement seeds
(OTA_XT_MAGICAL, 240 settings: CMRR 104.9 dB, |offset| 0.098 mV; OTA_5T: CMRR 91.4 dB, |offset| 2.1 mV, systematic),
against LLANA's 80 dB and 1 mV, which OTA_XT_MAGICAL clears everywhere. For one metric a base is an affine change
of the score (regret and R^2 ignore it); for ``both`` it sets the metrics' weights."""


def _base(metric: str, bases: dict[str, float] | None) -> tuple[float, float]:
    base, sign = BASES[metric]
    return (bases or {}).get(metric, base), sign


def objective_text(objective: Objective, bases: dict[str, float] | None = None) -> str:
    """The score as the LLM reads it, e.g. ``-(CMRR - 80 dB) / 80 dB (CMRR is maximised)``."""
    cm, off = _base("cmrr", bases)[0], _base("offset", bases)[0] * 1e3
    cmrr, offset = f"-(CMRR - {cm:g} dB) / {cm:g} dB", f"(|input offset| - {off:g} mV) / {off:g} mV"
    return {"cmrr": f"{cmrr} (CMRR is maximised)", "offset": f"{offset} (offset is minimised)",
            "both": f"{cmrr} + {offset}"}[objective]


def llana_score(perf: Performance, objective: Objective, bases: dict[str, float] | None = None) -> float | None:
    """LLANA's score (lower is better) with LLANA's bases or ``bases`` (metric -> base); None when a needed
    metric is missing."""
    parts = []
    for metric in ("cmrr", "offset") if objective == "both" else (objective,):
        value = perf.cmrr_db if metric == "cmrr" else (abs(perf.offset_v) if perf.offset_v is not None else None)
        if value is None:
            return None
        base, sign = _base(metric, bases)
        parts.append(sign * (value - base) / base)
    return float(sum(parts))


@dataclass(frozen=True)
class KnobSpace:
    """Named knobs with ranges; ``labels`` are the semantic names shown to an LLM."""

    names: tuple[str, ...]
    labels: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    @property
    def dim(self) -> int:
        return len(self.names)

    def decimals(self, k: int) -> int:
        """Decimals that resolve 1% of knob k's range: 2 for [0, 5], 3 for [0, 0.5]."""
        width = self.high[k] - self.low[k]
        return max(0, 2 - math.floor(math.log10(width))) if width > 0 else 2

    def to_values(self, unit: np.ndarray) -> np.ndarray:
        """Unit-cube point(s) -> knob values, rounded to each knob's decimals."""
        lo, hi = np.array(self.low), np.array(self.high)
        values = lo + np.clip(unit, 0.0, 1.0) * (hi - lo)
        return np.stack([np.round(values[..., k], self.decimals(k)) for k in range(self.dim)], axis=-1)

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        lo, hi = np.array(self.low), np.array(self.high)
        return (np.asarray(values, dtype=float) - lo) / np.where(hi > lo, hi - lo, 1.0)

    def fmt(self, k: int, value: float) -> str:
        return f"{value:.{self.decimals(k)}f}"

    def describe(self, values: np.ndarray) -> str:
        """``weight of net VO1M/VO1P: 2.35, weight of net TAIL1: 0.80, ...``"""
        return ", ".join(f"{lab}: {self.fmt(k, v)}" for k, (lab, v) in enumerate(zip(self.labels, values)))

    def ranges(self) -> str:
        """One line per knob: ``- weight of net TAIL1: [0.00, 5.00]``."""
        return "\n".join(
            f"- {lab}: [{self.fmt(k, self.low[k])}, {self.fmt(k, self.high[k])}]" for k, lab in enumerate(self.labels)
        )


@dataclass(frozen=True)
class LayoutOptions:
    """Everything that fixes the layout besides the net weights."""

    placement_seed: int = 0
    area_weight: float = 0.1
    symmetric: bool = True
    common_centroid: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayoutEval:
    placement: Placement
    routes: tuple[NetRoute, ...]
    parasitics: Parasitics
    sim: SimOutcome
    place_seconds: float
    """Placement alone (the analytic placer)."""
    extract_seconds: float
    """Routing and parasitic extraction."""


def net_weights(circuit: Circuit, knob_values: dict[str, float]) -> dict[str, float]:
    """Knob name (or any one of its nets) -> weight, expanded to every net of the knob; unknown names fail."""
    by_name = {k.name.lower(): k for k in circuit.knobs}
    for k in circuit.knobs:
        for net in k.nets:
            by_name.setdefault(net.lower(), k)
    out: dict[str, float] = {}
    for name, value in knob_values.items():
        knob = by_name.get(name.lower())
        if knob is None:
            raise InputError("net_weights", name, [k.name for k in circuit.knobs])
        if not math.isfinite(value) or value < 0:
            raise InputError(f"net_weights.{name}", value, "a finite weight >= 0")
        out.update({net: float(value) for net in knob.nets})
    return out


def evaluate_layout(
    circuit: Circuit,
    weights: dict[str, float],
    options: LayoutOptions,
    tech: Technology,
    lib: ModelLibrary,
    folder: Path,
    cells: list[Cell] | None = None,
    ngspice: str | None = None,
) -> LayoutEval:
    """Place with ``weights`` (net -> weight), route, extract and simulate once."""
    start = time.perf_counter()
    cells = cells or build_cells(circuit, tech, options.symmetric, options.common_centroid)
    placement = place(circuit, cells, weights, area_weight=options.area_weight, seed=options.placement_seed)
    placed = time.perf_counter()
    routes = route(placement)
    parasitics = extract(circuit, placement, routes, tech)
    extracted = time.perf_counter()
    sim = simulate(circuit, lib, folder, parasitics, ngspice=ngspice)
    return LayoutEval(placement, routes, parasitics, sim, placed - start, extracted - placed)


@dataclass
class Trial:
    """One evaluation: where (unit cube and values), what came out, and how long it took."""

    unit: np.ndarray
    values: np.ndarray
    score: float | None
    performance: Performance
    converged: bool
    area_um2: float
    seconds: float
    source: str = ""
    """Who proposed it: ``init``, ``gp_ei``, ``turbo``, ``llm``, ``gp_fallback``..."""


def _mean_performance(perfs: list[Performance]) -> Performance:
    """The mean of each metric over placements (offset as the mean |offset|); None where any is missing."""
    out: dict[str, float | None] = {}
    for name in Performance.model_fields:
        if name == "cmrr_ideal":
            continue
        vals = [getattr(p, name) for p in perfs]
        vals = [abs(v) for v in vals] if name == "offset_v" and None not in vals else vals
        out[name] = None if None in vals else float(np.mean(vals))
    return Performance(**out, cmrr_ideal=all(p.cmrr_ideal for p in perfs))


@dataclass
class Problem:
    """The black box over a circuit's knobs; results are cached by rounded knob values."""

    circuit: Circuit
    space: KnobSpace
    objective: Objective
    options: LayoutOptions
    tech: Technology
    lib: ModelLibrary
    folder: Path
    ngspice: str | None = None
    bases: dict[str, float] | None = None
    """Score bases (metric -> base); None: LLANA's."""
    placement_seeds: int = 1
    """Placements per evaluation (seeds ``options.placement_seed`` onward), metrics averaged: the smoothed black
    box, the expected metric over the placer's randomness (its seed alone moves CMRR by about 4 dB)."""
    cache: dict[tuple[float, ...], Trial] = field(default_factory=dict)
    store: EvalStore | None = None
    """Placements already simulated, on disk (shared by runs, processes and the layout set); None: memory only."""
    _cells: list[Cell] | None = None
    _context: str | None = None

    @classmethod
    def build(
        cls,
        circuit: Circuit,
        objective: Objective,
        options: LayoutOptions,
        tech: Technology,
        lib: ModelLibrary,
        folder: Path,
        bounds: tuple[float, float] = (0.0, 5.0),
        ngspice: str | None = None,
        bases: dict[str, float] | None = None,
        placement_seeds: int = 1,
        store: EvalStore | None = None,
    ) -> Problem:
        """The black box over every knob of ``circuit``, each in ``bounds`` (LLANA's weight ranges were not
        published; [0, 5] around MAGICAL's default weight 1 is a choice)."""
        knobs = circuit.knobs
        space = KnobSpace(
            names=tuple(k.name for k in knobs),
            labels=tuple(k.label for k in knobs),
            low=(bounds[0],) * len(knobs),
            high=(bounds[1],) * len(knobs),
        )
        if placement_seeds < 1:
            raise InputError("placement_seeds", placement_seeds, "at least 1 placement per evaluation")
        return cls(circuit, space, objective, options, tech, lib, folder, ngspice, bases, placement_seeds, store=store)

    def _place_and_simulate(self, key: tuple[float, ...], seed: int, folder: Path) -> tuple[StoredEval, float]:
        """One placement seed at knob values ``key``: from the store, or evaluated (and stored); the seconds
        spent now (0 for a stored one)."""
        options = replace(self.options, placement_seed=seed)
        if self.store is not None:
            if self._context is None:  # the model cards by content: the same file in another cache folder matches
                self._context = EvalStore.context(self.circuit, self.tech, self.lib.path.read_text(), self.lib.nmos,
                                                  self.lib.pmos)
            skey = EvalStore.key(EvalStore.context(self._context, options), key)
            hit = self.store.get(skey)
            if hit is not None:
                return hit, 0.0
        if self._cells is None:
            self._cells = build_cells(self.circuit, self.tech, self.options.symmetric, self.options.common_centroid)
        weights = net_weights(self.circuit, dict(zip(self.space.names, key)))
        ev = evaluate_layout(self.circuit, weights, options, self.tech, self.lib, folder, self._cells, self.ngspice)
        seconds = ev.place_seconds + ev.extract_seconds + ev.sim.seconds
        out = StoredEval(ev.sim.performance, ev.sim.converged, ev.placement.area_um2, seconds)
        if self.store is not None:
            self.store.put(skey, out)
        return out, seconds

    def __call__(self, unit: np.ndarray, source: str = "") -> Trial:
        values = self.space.to_values(np.asarray(unit, dtype=float))
        key = tuple(float(v) for v in values)
        if key in self.cache:
            hit = self.cache[key]
            return Trial(hit.unit, hit.values, hit.score, hit.performance, hit.converged, hit.area_um2, 0.0, source)
        net_weights(self.circuit, dict(zip(self.space.names, key)))  # a bad knob fails before any lookup
        folder = self.folder / f"eval{len(self.cache):04d}"
        evs, spent = zip(*(
            self._place_and_simulate(key, self.options.placement_seed + s,
                                     folder / f"seed{s}" if self.placement_seeds > 1 else folder)
            for s in range(self.placement_seeds)
        ))
        converged = all(ev.converged for ev in evs)
        perf = evs[0].performance if len(evs) == 1 else _mean_performance([ev.performance for ev in evs])
        trial = Trial(
            unit=self.space.to_unit(values),
            values=values,
            score=llana_score(perf, self.objective, self.bases) if converged else None,
            performance=perf,
            converged=converged,
            area_um2=float(np.mean([ev.area_um2 for ev in evs])),
            seconds=float(sum(spent)),
            source=source,
        )
        self.cache[key] = trial
        return trial
