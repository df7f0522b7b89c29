"""Mask-quality metrics of the ICCAD 2013 contest family: L2, PV band, EPE, shots, mask-rule checks.

Definitions (binary images, 1 px = 1 nm; shared/data/iccad13/README.md, OpenILT ``pyilt/evaluation.py``):
* L2 = number of pixels where the nominal print differs from the target (``mse_loss(..., "sum")`` on
  binary images).
* PV band = number of pixels where the max-corner and min-corner prints differ.
* EPE: check points on the target's edges -- an edge of length <= 80 nm gets one at its middle, a longer
  one gets one every 40 nm starting 40 nm from each end (OpenILT ``EPE_CHECK_INTERVEL = 40``,
  ``MIN_EPE_CHECK_LENGTH = 80``); the tolerance is 15 nm (``EPE_CONSTRAINT = 15``). Two ways to count:
    - ``contest``: a check point violates when the printed edge is more than 15 nm from the target edge,
      i.e. when the 16th pixel inside the edge is not printed or the 16th pixel outside is printed
      (probes at +-16 px); each check point counts at most once.
    - ``openilt``: OpenILT's count: probes 15 px inside and outside the boundary pixel (the 16th pixel
      inside, the 15th outside); an unprinted inner probe and a printed outer probe each count, so a
      check point can count twice.
* Shots: rectangles of a deterministic partition of the binary mask (:func:`mask_to_rects`), the smaller
  of the row-wise and the column-wise partition; optionally on a down-sampled grid (OpenILT counts on
  512 x 512, LithoBench on 256 x 256).
* MRC: width, space and area rules, each violation = one connected region that breaks the rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.common import InputError
from tools.litho._runs import label_runs
from tools.litho.layout import mask_to_rects

if TYPE_CHECKING:
    import torch

    from tools.litho.simulator import LithoSim

    ArrayLike = np.ndarray | torch.Tensor

__all__ = (
    "EPE_CONSTRAINT",
    "EPE_SPACING",
    "EPE_SHORT_EDGE",
    "MRCReport",
    "MaskMetrics",
    "l2",
    "pv_band",
    "epe",
    "epe_checkpoints",
    "shot_count",
    "mrc_check",
    "corner_prints",
    "evaluate_mask",
)

EPE_CONSTRAINT = 15  # nm (OpenILT pyilt/evaluation.py EPE_CONSTRAINT)
EPE_SPACING = 40  # nm between check points and from an edge's ends (EPE_CHECK_INTERVEL, EPE_CHECK_START_INTERVEL)
EPE_SHORT_EDGE = 80  # nm; edges up to this get one check point in the middle (MIN_EPE_CHECK_LENGTH)

def _binary(image: ArrayLike, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Boolean numpy image (>= 0.5 is on), shape-checked."""
    if hasattr(image, "detach"):  # a torch tensor (duck-typed: the metrics themselves need no torch)
        image = image.detach().cpu().numpy()
    image = np.asarray(image)
    if image.ndim != 2 or (shape is not None and image.shape != shape):
        want = f"a 2-D image of shape {shape}" if shape else "a 2-D image"
        raise InputError(name, f"shape {image.shape}", want)
    return image >= 0.5


def l2(printed: ArrayLike, target: ArrayLike) -> int:
    """Pixels where the (binary) nominal print and the target differ."""
    t = _binary(target, "target")
    return int(np.count_nonzero(_binary(printed, "printed", t.shape) != t))


def pv_band(print_max: ArrayLike, print_min: ArrayLike) -> int:
    """Pixels where the max-corner and min-corner prints differ."""
    a = _binary(print_max, "print_max")
    return int(np.count_nonzero(a != _binary(print_min, "print_min", a.shape)))


def epe_checkpoints(target: ArrayLike) -> np.ndarray:
    """EPE check points of a binary target.

    Edges are maximal straight runs of a 0->1 (or 1->0) transition between pixel rows or columns; along
    each, check points are placed as in OpenILT (module docstring).

    Returns:
        ``(n, 4)`` int64 ``[row, col, drow, dcol]``: the target pixel just inside the edge and the unit
        step pointing inside. Deterministic order (vertical edges by column, then horizontal by row).
    """
    t = _binary(target, "target")
    vertical = _edge_points(t)
    horizontal = _edge_points(t.T)[:, [1, 0, 3, 2]]
    return np.concatenate([vertical, horizontal]).astype(np.int64)


def _edge_points(t: np.ndarray) -> np.ndarray:
    """Check points on the vertical edges (transitions along each row) of ``t``: ``[row, col, 0, dcol]``."""
    padded = np.zeros((t.shape[0], t.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = t
    d = np.diff(padded, axis=1)  # d[r, e] = t[r, e] - t[r, e-1]: edge line between columns e-1 and e
    out = []
    for sign, inside_shift in ((1, 0), (-1, -1)):  # rising: inside pixel e; falling: inside pixel e-1
        cols, rows = np.nonzero(d.T == sign)  # column-major: runs of rows along each edge line
        if cols.size == 0:
            continue
        start = np.ones(cols.size, dtype=bool)
        start[1:] = (cols[1:] != cols[:-1]) | (rows[1:] != rows[:-1] + 1)
        first = np.nonzero(start)[0]
        last = np.append(first[1:] - 1, cols.size - 1)
        for i, j in zip(first, last):
            r0, r1, c = int(rows[i]), int(rows[j]), int(cols[i]) + inside_shift
            # At a concave corner the inside pixel beyond the edge's end is still target: OpenILT's
            # 8-neighbour boundary includes it in the edge, so the edge is one pixel longer there.
            r0 -= int(r0 > 0 and t[r0 - 1, c])
            r1 += int(r1 + 1 < t.shape[0] and t[r1 + 1, c])
            for r in _sample_rows(r0, r1):
                out.append((r, c, 0, sign))
    return np.array(out, dtype=np.int64).reshape(-1, 4)


def _sample_rows(r0: int, r1: int) -> list[int]:
    """Check-point rows along an edge covering pixel rows ``r0..r1`` (OpenILT's spacing rule)."""
    centre = (r0 + r1) // 2
    if r1 - r0 <= EPE_SHORT_EDGE:
        return [centre]
    down = range(r0 + EPE_SPACING, centre + 1, EPE_SPACING)
    up = range(r1 - EPE_SPACING, centre, -EPE_SPACING)
    return sorted(set(down) | set(up))


def epe(print_nominal: ArrayLike, target: ArrayLike, convention: Literal["contest", "openilt"] = "contest") -> int:
    """EPE violation count of a binary nominal print against the target (module docstring for the rules).

    Raises:
        InputError: unknown convention or mismatched shapes.
    """
    if convention not in ("contest", "openilt"):
        raise InputError("convention", convention, ("contest", "openilt"))
    t = _binary(target, "target")
    p = _binary(print_nominal, "print_nominal", t.shape)
    pts = epe_checkpoints(t)
    if pts.size == 0:
        return 0
    base, step = pts[:, :2], pts[:, 2:]
    inner = _probe(p, base + EPE_CONSTRAINT * step)  # 16th pixel inside the edge
    outer_offset = EPE_CONSTRAINT + 1 if convention == "contest" else EPE_CONSTRAINT
    outer = _probe(p, base - outer_offset * step)  # contest: 16th pixel outside; OpenILT: 15th
    if convention == "contest":
        return int(np.count_nonzero(~inner | outer))
    return int(np.count_nonzero(~inner) + np.count_nonzero(outer))


def _probe(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Image values at ``[row, col]`` points; outside the canvas counts as unprinted."""
    h, w = image.shape
    r, c = points[:, 0], points[:, 1]
    ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    values = np.zeros(points.shape[0], dtype=bool)
    values[ok] = image[r[ok], c[ok]]
    return values


def shot_count(mask: ArrayLike, grid: int | None = None) -> int:
    """Rectangles needed to write the binary mask (see :func:`mask_to_rects`), the fewer of rows/columns.

    Args:
        mask: ``(H, W)``; >= 0.5 is on.
        grid: if given, count on a nearest-neighbour ``grid x grid`` down-sampling, as OpenILT (512) and
            LithoBench (256) do; ``None`` counts at full resolution.
    """
    on = _binary(mask, "mask")
    if grid is not None:
        if grid < 1 or on.shape[0] % grid or on.shape[1] % grid:
            raise InputError("grid", grid, f"a divisor of the mask size {on.shape}")
        on = on[:: on.shape[0] // grid, :: on.shape[1] // grid]
    return int(min(len(mask_to_rects(on)), len(mask_to_rects(on.T))))


class MRCReport(BaseModel):
    """Mask-rule check result: total violations and the count per rule."""

    violations: int = Field(description="Total violating regions over all rules.")
    details: dict[str, int] = Field(description="Violations per rule: width, space, area.")


def mrc_check(
    mask: ArrayLike, min_width_nm: int = 20, min_space_nm: int = 20, min_area_nm2: int = 400, pixel_nm: float = 1.0
) -> MRCReport:
    """Mask-rule check of a binary mask.

    * width: mask pixels not covered by any ``w x w`` square lying inside the mask (a morphological
      opening); each connected group of such pixels is one violation;
    * space: the same on the complement (outside the canvas counts as space);
    * area: connected shapes smaller than ``min_area_nm2``.
    The defaults (20 nm, 20 nm, 400 nm^2) are the minimum side and area of DiffOPC's rectangle filter
    (NVlabs/DiffOPC ``src/mrc/mrc.py`` ``filter_rect``); pass the rules of your mask shop.
    """
    on = _binary(mask, "mask")
    width = int(round(min_width_nm / pixel_nm))
    space = int(round(min_space_nm / pixel_nm))
    rows, cols = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
    if rows.size == 0:
        return MRCReport(violations=0, details={"width": 0, "space": 0, "area": 0})
    margin = max(width, space) + 1  # beyond the shapes' bbox + margin everything is wide-open space
    on = on[max(rows[0] - margin, 0) : rows[-1] + margin + 1, max(cols[0] - margin, 0) : cols[-1] + margin + 1]
    details = {
        "width": _narrow_regions(on, width) if width > 1 else 0,
        "space": _narrow_regions(~np.pad(on, space, constant_values=False), space) if space > 1 else 0,
        "area": 0,
    }
    if min_area_nm2 > 0:
        _, starts, ends, label = label_runs(on)
        if label.size:
            areas = np.bincount(label, weights=ends - starts) * pixel_nm**2
            details["area"] = int(np.count_nonzero(areas < min_area_nm2))
    return MRCReport(violations=sum(details.values()), details=details)


def _narrow_regions(on: np.ndarray, w: int) -> int:
    """Connected regions of ``on`` that no ``w x w`` square inside ``on`` covers (``on`` minus its opening)."""
    fits = _box_sum(on.astype(np.int32), w) == w * w  # fits[r, c]: square with top-left (r, c) inside
    covered = _box_sum(np.pad(fits, ((w - 1, 0), (w - 1, 0))).astype(np.int32), w)[: on.shape[0], : on.shape[1]] > 0
    narrow = on & ~covered
    if not narrow.any():
        return 0
    return int(label_runs(narrow)[3].max() + 1)


def _box_sum(a: np.ndarray, w: int) -> np.ndarray:
    """Sums over ``w x w`` windows with top-left corner ``(r, c)``, zero-padded at the far side; same shape."""
    h, v = a.shape
    s = np.zeros((h + w + 1, v + w + 1), dtype=np.int64)  # s[i, j] = a[:i, :j].sum(), a zero-padded
    s[1 : h + 1, 1 : v + 1] = a.cumsum(0).cumsum(1)
    s[h + 1 :, :] = s[h : h + 1, :]
    s[:, v + 1 :] = s[:, v : v + 1]
    return s[w : w + h, w : w + v] - s[:h, w : w + v] - s[w : w + h, :v] + s[:h, :v]


class MaskMetrics(BaseModel):
    """Contest metrics of one mask against one target (all counts in pixels = nm^2, or events)."""

    l2: int = Field(description="Nominal print vs target, differing pixels.")
    pvb: int = Field(description="Max vs min corner print, differing pixels.")
    epe_contest: int = Field(description="EPE violations, contest convention (+-16 nm probes, one per point).")
    epe_openilt: int = Field(description="EPE violations, OpenILT in+out count (+-15 nm from boundary pixel).")
    shots: int = Field(description="Rectangles in the mask's deterministic partition.")
    mrc_violations: int = Field(description="Mask-rule violations (width + space + area).")
    mrc: dict[str, int] = Field(default_factory=dict, description="Mask-rule violations per rule.")


def corner_prints(mask: ArrayLike, sim: LithoSim) -> dict[str, np.ndarray]:
    """Binary prints (``I >= 0.225``) of the mask binarised at 0.5, at the three corners: ``{corner: bool}``."""
    import torch

    from tools.litho.simulator import THRESHOLD

    binary = _binary(mask, "mask", (sim.size, sim.size))
    with torch.no_grad():
        images = sim.simulate(torch.from_numpy(binary.astype(np.float32)))
    return {k: (v >= THRESHOLD).cpu().numpy() for k, v in images.items()}


def evaluate_mask(
    mask: ArrayLike,
    target: ArrayLike,
    sim: LithoSim,
    *,
    shot_grid: int | None = None,
    min_width_nm: int = 20,
    min_space_nm: int = 20,
    min_area_nm2: int = 400,
    prints: dict[str, np.ndarray] | None = None,
) -> MaskMetrics:
    """All contest metrics for a mask: binarise it at 0.5, print it at the three corners, compare.

    Args:
        mask: ``(N, N)`` transmission; values >= 0.5 are clear.
        target: ``(N, N)`` binary target, rasterised in the convention you report against.
        sim: the simulator (its ``size`` must be N).
        shot_grid: see :func:`shot_count`.
        min_width_nm, min_space_nm, min_area_nm2: mask rules, see :func:`mrc_check`.
        prints: ``corner_prints(mask, sim)`` if already computed (saves the simulation).
    """
    binary = _binary(mask, "mask", (sim.size, sim.size))
    t = _binary(target, "target", (sim.size, sim.size))
    if prints is None:
        prints = corner_prints(binary, sim)
    mrc = mrc_check(binary, min_width_nm, min_space_nm, min_area_nm2)
    return MaskMetrics(
        l2=l2(prints["nominal"], t),
        pvb=pv_band(prints["max"], prints["min"]),
        epe_contest=epe(prints["nominal"], t, "contest"),
        epe_openilt=epe(prints["nominal"], t, "openilt"),
        shots=shot_count(binary, shot_grid),
        mrc_violations=mrc.violations,
        mrc=mrc.details,
    )
