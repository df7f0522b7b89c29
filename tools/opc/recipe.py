"""OPC recipes for the EPE-feedback OPC (``mbopc``): the typed recipe, its search space and the one cost J.

An OPC recipe is what an OPC engineer tunes per layer and design style (Chen et al., "Intelligent OPC
Engineer Assistant", AAAI 2025): the fragment length, the feedback gain, step and iteration count, the weight
of the dose/focus corners in the fed-back EPE (process-window OPC), rule-based assist bars (SRAF distance and
width, ``tools.opc.sraf``), corner treatments (serif and mousebite sizes, ``tools.opc.serifs``), and, per topology class of a segment, an initial edge bias (line-end hammerhead,
corner serif) and the EPE the feedback loop drives the segment to. The
classes come from ``tools.opc.topology`` (line end, convex/concave corner, jog, run, via), with runs split
into dense and isolated by the space to the next feature. :func:`solve` runs one recipe on one clip on the
project's engine (``tools.opc.mbopc``, ``tools.litho``) and scores it at full resolution.

The cost every search, baseline and report uses::

    J = L2 + W_EPE * EPE + PVB          (nm^2; EPE = contest violations)

``W_EPE = 600 nm^2``: a contest EPE violation means an edge misplaced by more than 15 nm over its 40 nm check
interval (``tools.litho.metrics``), i.e. at least 15 x 40 = 600 nm^2 of misprinted area, so one violation
weighs what the smallest area error it stands for weighs in L2. Clips differ in size by 10x, so searches and
reports compare J *relative to the default recipe on the same clip* (J / J_default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tools.common import InputError
from tools.opc.serifs import SERIF_MAX_NM, SERIF_MIN_NM
from tools.opc.sraf import SRAF_MIN_WIDTH_NM

__all__ = (
    "W_EPE",
    "RECIPE_CLASSES",
    "ClassRecipe",
    "Recipe",
    "RunMetrics",
    "SPACE",
    "parse_recipe",
    "encode",
    "decode",
    "recipe_class",
    "cost",
    "ClipProblem",
    "load_problem",
    "solve",
)

W_EPE = 600.0
"""nm^2 per contest EPE violation in J: 15 nm tolerance x 40 nm check interval (module docstring)."""

RECIPE_CLASSES: tuple[str, ...] = ("line_end", "convex", "concave", "jog", "run_dense", "run_iso", "via")
"""Recipe classes: ``tools.opc.topology`` classes, with ``run`` split by ``SegmentTopology.dense``."""


class ClassRecipe(BaseModel):
    """What a recipe sets for the segments of one topology class."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bias_nm: int = Field(default=0, ge=-10, le=20, description="Initial outward move before the first round. In nm.")
    epe_target_nm: float = Field(
        default=0.0, ge=-6.0, le=6.0, description="EPE the feedback drives the segment to (+ = print beyond the "
        "target edge: over-correct a pull-back). In nm."
    )


class Recipe(BaseModel):
    """An mbopc recipe. The defaults are ``MBOPCConfig``'s and 60 nm fragments: the default recipe is the
    plain EPE-feedback baseline, bit for bit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    segment_length_nm: int = Field(default=60, ge=40, le=120, description="Fragment length (DiffOPC: 60). In nm.")
    iterations: int = Field(default=12, ge=4, le=24, description="Simulate-measure-move rounds.")
    gain: float = Field(default=0.5, ge=0.1, le=1.0, description="Fraction of the EPE error corrected per round.")
    max_step_nm: float = Field(default=8.0, ge=2.0, le=16.0, description="Largest move per round. In nm.")
    decay_every: int = Field(default=4, ge=2, le=12, description="Rounds between halvings of the step limit.")
    pw_weight: float = Field(default=0.0, ge=0.0, le=1.0, description="Weight of the dose/focus corners' edges "
                             "in the fed-back EPE (0 = nominal only; tools.opc.mbopc).")
    sraf_width_nm: int = Field(default=0, ge=0, le=40, description="Assist-bar width: 0 = no SRAF, else 20..40. In nm.")
    sraf_distance_nm: int = Field(default=80, ge=40, le=160, description="Assist-bar distance from the target "
                                  "edge (used when sraf_width_nm > 0). In nm.")
    serif_nm: int = Field(default=0, ge=0, le=SERIF_MAX_NM, description="Half-size of the serif square on every "
                          f"outer corner: 0 = none, else {SERIF_MIN_NM}..{SERIF_MAX_NM} (tools.opc.serifs). In nm.")
    mousebite_nm: int = Field(default=0, ge=0, le=SERIF_MAX_NM, description="Half-size of the mousebite cut into "
                              f"every inner corner: 0 = none, else {SERIF_MIN_NM}..{SERIF_MAX_NM}. In nm.")
    classes: dict[str, ClassRecipe] = Field(
        default_factory=dict, description=f"Per topology class ({', '.join(RECIPE_CLASSES)}); missing = 0 bias, 0 target."
    )

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, value: dict[str, ClassRecipe]) -> dict[str, ClassRecipe]:
        unknown = [name for name in value if name not in RECIPE_CLASSES]
        if unknown:
            raise ValueError(f"unknown topology class {unknown[0]!r}; expected one of {', '.join(RECIPE_CLASSES)}")
        return value

    @field_validator("sraf_width_nm")
    @classmethod
    def _printable_width(cls, value: int) -> int:
        if 0 < value < SRAF_MIN_WIDTH_NM:
            raise ValueError(f"an SRAF is 0 (none) or at least {SRAF_MIN_WIDTH_NM} nm wide (mask rule)")
        return value

    @field_validator("serif_nm", "mousebite_nm")
    @classmethod
    def _rule_sized(cls, value: int) -> int:
        if 0 < value < SERIF_MIN_NM:
            raise ValueError(f"a corner treatment is 0 (none) or at least {SERIF_MIN_NM} nm (a {2 * SERIF_MIN_NM} nm "
                             "square: the mask rules' min width)")
        return value

    def of(self, name: str) -> ClassRecipe:
        """The settings of class ``name`` (defaults when the recipe does not name it)."""
        return self.classes.get(name, ClassRecipe())

    def compact(self) -> dict[str, Any]:
        """The recipe as JSON with default per-class entries left out."""
        data = self.model_dump()
        data["classes"] = {k: v for k, v in data["classes"].items() if v != ClassRecipe().model_dump()}
        return data


def parse_recipe(data: dict[str, Any] | Recipe | None) -> Recipe:
    """A :class:`Recipe` from a dict; an out-of-range or unknown field raises :class:`InputError` naming it.

    Raises:
        InputError: ``recipe.<field>`` with the value and the accepted range.
    """
    if data is None:
        return Recipe()
    if isinstance(data, Recipe):
        return data
    for name in (data.get("classes") or {}) if isinstance(data, dict) else ():
        if name not in RECIPE_CLASSES:
            raise InputError("recipe.classes", name, RECIPE_CLASSES)
    try:
        return Recipe.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = "recipe." + ".".join(str(p) for p in first["loc"])
        raise InputError(where, first.get("input"), _accepted(first["loc"])) from None


def _accepted(loc: tuple[Any, ...]) -> str:
    """The documented range of the field at ``loc`` (for error messages)."""
    model: type[BaseModel] = Recipe
    if not loc:
        return "a recipe (see tools.opc.recipe.Recipe)"
    name = str(loc[-1])
    if loc and loc[0] == "classes":
        model = ClassRecipe
        if len(loc) < 3:
            return f"a mapping from {', '.join(RECIPE_CLASSES)} to class settings"
    field = model.model_fields.get(name)
    if field is None:
        return f"one of the fields {', '.join(model.model_fields)}"
    lo = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    hi = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    return f"a number within [{lo}, {hi}] ({field.description})"


# ------------------------------------------------------------------------------------------ search space


@dataclass(frozen=True)
class Dim:
    """One coordinate of the search space: a recipe field, its range and whether it is an integer."""

    path: tuple[str, ...]
    low: float
    high: float
    integer: bool


def _space() -> tuple[Dim, ...]:
    dims = [
        Dim(("segment_length_nm",), 40, 120, True),
        Dim(("iterations",), 4, 24, True),
        Dim(("gain",), 0.1, 1.0, False),
        Dim(("max_step_nm",), 2.0, 16.0, False),
        Dim(("decay_every",), 2, 12, True),
        Dim(("pw_weight",), 0.0, 1.0, False),
        Dim(("sraf_width_nm",), 0, 40, True),  # below SRAF_MIN_WIDTH_NM decodes to 0 = no SRAF
        Dim(("sraf_distance_nm",), 40, 160, True),
        Dim(("serif_nm",), 0, SERIF_MAX_NM, True),  # below SERIF_MIN_NM decodes to 0 = none
        Dim(("mousebite_nm",), 0, SERIF_MAX_NM, True),
    ]
    for name in RECIPE_CLASSES:
        dims.append(Dim(("classes", name, "bias_nm"), -10, 20, True))
        dims.append(Dim(("classes", name, "epe_target_nm"), -6.0, 6.0, False))
    return tuple(dims)


SPACE: tuple[Dim, ...] = _space()
"""The search space: every recipe field with its documented range, in a fixed order (24 coordinates)."""


_OFF_BELOW: dict[tuple[str, ...], int] = {
    ("sraf_width_nm",): SRAF_MIN_WIDTH_NM, ("serif_nm",): SERIF_MIN_NM, ("mousebite_nm",): SERIF_MIN_NM,
}
"""Coordinates whose value is 0 (off) or at least a mask-rule minimum: below the minimum they decode to 0."""


def encode(recipe: Recipe) -> np.ndarray:
    """(len(SPACE),) float64 coordinates in [0, 1]."""
    out = np.empty(len(SPACE))
    for i, d in enumerate(SPACE):
        value = getattr(recipe.of(d.path[1]), d.path[2]) if d.path[0] == "classes" else getattr(recipe, d.path[0])
        out[i] = (float(value) - d.low) / (d.high - d.low)
    return out


def decode(u: np.ndarray) -> Recipe:
    """The recipe at coordinates ``u`` (clipped to [0, 1]; integers rounded, floats to 0.01)."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    top: dict[str, Any] = {}
    classes: dict[str, dict[str, Any]] = {}
    for value, d in zip(u, SPACE):
        x = d.low + value * (d.high - d.low)
        x = int(round(x)) if d.integer else round(float(x), 2)
        if d.path in _OFF_BELOW and x < _OFF_BELOW[d.path]:
            x = 0
        if d.path[0] == "classes":
            classes.setdefault(d.path[1], {})[d.path[2]] = x
        else:
            top[d.path[0]] = x
    made = {k: ClassRecipe(**v) for k, v in classes.items()}
    return Recipe(**top, classes={k: v for k, v in made.items() if v != ClassRecipe()})


# ------------------------------------------------------------------------------------------ cost and runs


class RunMetrics(BaseModel):
    """Full-resolution metrics of one recipe run and its cost."""

    l2: int = Field(description="Nominal print vs target. In nm^2.")
    pvb: int = Field(description="PV band. In nm^2.")
    epe: int = Field(description="Contest EPE violations.")
    shots: int = Field(description="Mask rectangles.")
    mrc: int = Field(description="Mask-rule violations.")
    sraf_print: int = Field(default=0, description="Pixels of the assist bars printed at the max corner (0 = none).")
    cost: float = Field(description="J = L2 + W_EPE * EPE + PVB. In nm^2.")
    seconds: float = Field(description="Wall time of the run (mbopc and scoring). In seconds.")


def cost(l2: float, epe: float, pvb: float) -> float:
    """J = L2 + W_EPE * EPE + PVB (module docstring)."""
    return float(l2) + W_EPE * float(epe) + float(pvb)


def recipe_class(topo: Any) -> np.ndarray:
    """(S,) int64 index into :data:`RECIPE_CLASSES` for each segment of a ``SegmentTopology``."""
    from tools.opc.topology import TOPO_NAMES

    names = np.asarray(TOPO_NAMES)[topo.cls.astype(np.int64)]
    names = np.where(names == "run", np.where(topo.dense, "run_dense", "run_iso"), names)
    index = {name: i for i, name in enumerate(RECIPE_CLASSES)}
    return np.asarray([index[str(n)] for n in names], dtype=np.int64)


@dataclass
class ClipProblem:
    """A clip ready for recipe runs: target raster, simulator, and the per-fragment-length models (cached)."""

    name: str
    polygons: list[np.ndarray]
    target: np.ndarray
    sim: Any
    _models: dict[int, tuple[Any, Any]]
    _srafs: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def model(self, segment_length_nm: int) -> tuple[Any, Any]:
        """(EdgeMask, SegmentTopology) of the target fragmented at ``segment_length_nm``."""
        if segment_length_nm not in self._models:
            from tools.opc.diffopc import edge_model
            from tools.opc.topology import segment_topology

            model = edge_model(self.polygons, segment_length_nm, self.sim.size, inclusive=False)
            self._models[segment_length_nm] = (model, segment_topology(model.segs))
        return self._models[segment_length_nm]

    def srafs(self, segment_length_nm: int, distance_nm: int, width_nm: int) -> tuple[np.ndarray, np.ndarray]:
        """(bars (N, N) bool, per-segment outward cap) of ``tools.opc.sraf`` for this fragmentation (cached)."""
        key = (segment_length_nm, distance_nm, width_nm)
        if key not in self._srafs:
            from tools.opc.sraf import outward_cap, place_srafs

            model, topo = self.model(segment_length_nm)
            bars = place_srafs(model.segs, topo.space_nm, self.target, distance_nm, width_nm)
            self._srafs[key] = (bars, outward_cap(model.segs, topo.space_nm, distance_nm, width_nm))
        return self._srafs[key]


def load_problem(clip: str, sim: Any) -> ClipProblem:
    """Load a clip (registry name, ``metal:<name>`` or a layout path) and rasterise its target (exact).

    Raises:
        InputError: unknown clip, or a clip without polygons.
    """
    from tools.litho.clips import load_clip
    from tools.litho.raster import rasterize

    loaded = load_clip(clip)
    if not loaded.layout.polygons:
        raise InputError("clip", clip, "a clip with at least one polygon (this one is empty)")
    target = rasterize(loaded.layout, convention="exact")
    return ClipProblem(clip, loaded.layout.polygons, target, sim, {})


def solve(
    problem: ClipProblem, recipe: Recipe, per_segment: Callable[[Any], tuple[np.ndarray, np.ndarray]] | None = None
) -> tuple[RunMetrics, Any]:
    """Run mbopc with ``recipe`` on the clip and score the mask at full resolution.

    Args:
        problem: the clip.
        recipe: global settings and per-class values.
        per_segment: optional ``SegmentTopology -> (bias_nm, epe_target_nm)`` arrays replacing the per-class
            values (a recipe tree's rules, ``tools.opc.recipe_tree``).

    Returns:
        (metrics, EdgeOPCResult) -- the result carries the mask and polygons for artefacts.
    """
    from tools.litho.metrics import corner_prints, evaluate_mask
    from tools.opc.mbopc import MBOPCConfig, optimize_mbopc
    from tools.opc.serifs import corner_sizes
    from tools.opc.sraf import printed_pixels

    start = time.perf_counter()
    model, topo = problem.model(recipe.segment_length_nm)
    if per_segment is None:
        cls = recipe_class(topo)
        bias = np.asarray([recipe.of(n).bias_nm for n in RECIPE_CLASSES], dtype=np.float64)[cls]
        goal = np.asarray([recipe.of(n).epe_target_nm for n in RECIPE_CLASSES], dtype=np.float64)[cls]
    else:
        bias, goal = per_segment(topo)
    config = MBOPCConfig(
        iterations=recipe.iterations, gain=recipe.gain, max_step_nm=recipe.max_step_nm, decay_every=recipe.decay_every
    )
    plain = not bias.any() and not goal.any()
    bars, cap = problem.srafs(recipe.segment_length_nm, recipe.sraf_distance_nm, recipe.sraf_width_nm) \
        if recipe.sraf_width_nm else (None, None)
    result = optimize_mbopc(
        model, problem.target, problem.sim, config,
        start_nm=None if plain else bias, epe_target_nm=None if plain else goal,
        pw_weight=recipe.pw_weight, assist=bars, upper_nm=cap,
        corner_nm=corner_sizes(model.segs, recipe.serif_nm, recipe.mousebite_nm)
        if recipe.serif_nm or recipe.mousebite_nm else None,
    )
    prints = corner_prints(result.mask, problem.sim)
    m = evaluate_mask(result.mask, problem.target, problem.sim, prints=prints)
    metrics = RunMetrics(
        l2=m.l2, pvb=m.pvb, epe=m.epe_contest, shots=m.shots, mrc=m.mrc_violations,
        sraf_print=0 if bars is None else printed_pixels(prints["max"], bars),
        cost=cost(m.l2, m.epe_contest, m.pvb), seconds=round(time.perf_counter() - start, 3),
    )
    return metrics, result
