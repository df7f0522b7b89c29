"""Mask-rule awareness for segment moves: per-segment move bounds and jog merging.

DiffOPC keeps its output a valid Manhattan mask (ICCAD 2024 paper, mask-rule section): moves are bounded,
minimum width and space are kept and small jogs are merged. Here that is done with box constraints that are
sufficient by construction:

* two facing edges across a gap (a space) each get half of the slack: a segment may move out by at most
  ``floor((gap - min_space) / 2)``; spans are compared with a margin of ``min_space + max_move_nm`` so that
  diagonal neighbours and moved corners count too;
* two facing edges of the same feature (a width) each get half of the width slack inwards;
* a move that shortens a perpendicular segment ending in a jog leaves at least ``max(min_width, min_space)``
  of it (no narrow finger or slot, no fold), and no move exceeds ``max_move_nm``.

Because every pair of facing edges splits its slack, any combination of in-bounds moves is legal, so the
optimiser only needs to clamp after each step. The bounds are integers, so rounding keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.opc.segments import SegmentSet

__all__ = ("MaskRules", "move_bounds", "facing_gaps", "merge_jogs", "NO_GAP")

NO_GAP = np.iinfo(np.int64).max // 4
"""What :func:`facing_gaps` reports where no facing edge exists."""


@dataclass(frozen=True)
class MaskRules:
    """Mask rules the moves must keep.

    Attributes:
        min_width_nm: smallest mask feature width. In nm.
        min_space_nm: smallest gap between mask features (and notch width). In nm.
        max_move_nm: largest move of a segment, in either direction. In nm.
    """

    min_width_nm: int = 20
    min_space_nm: int = 20
    max_move_nm: int = 40


def move_bounds(segs: SegmentSet, rules: MaskRules) -> tuple[np.ndarray, np.ndarray]:
    """Integer move bounds per segment that keep width, space and topology for any combination of moves.

    Returns:
        (lower, upper): (S,) int64 arrays with ``lower <= 0 <= upper``. In nm.
    """
    n = len(segs)
    lower = np.full(n, -rules.max_move_nm, dtype=np.int64)
    upper = np.full(n, rules.max_move_nm, dtype=np.int64)
    space, width = rules.min_space_nm, rules.min_width_nm
    # a moved vertex can carry an edge space + max_move past its span, so spaces look that far sideways
    space_gap, width_gap = facing_gaps(segs, space_reach_nm=space + rules.max_move_nm)
    upper = np.minimum(upper, np.maximum((space_gap - space) // 2, 0))
    lower = np.maximum(lower, -np.maximum((width_gap - width) // 2, 0))
    # A vertex slides with the perpendicular segment's move. Where the segment it shortens ends in a jog
    # (an interior cut, not a vertex), what is left of it must stay min(width, space)-wide, or the jog would
    # leave a finger or a slot narrower than the rules (or fold over itself). A whole edge cannot form one.
    keep = max(width, space)
    length = segs.length
    for c, (v, h, _, _, convex) in enumerate(segs.corners):
        for mover, shortened in ((h, v), (v, h)):
            other = segs.end_corner[shortened] if segs.start_corner[shortened] == c else segs.start_corner[shortened]
            if other >= 0:
                continue
            room = max(int(length[shortened]) - keep, 0)
            if convex > 0:  # an inward move of the mover shortens the other segment at a convex vertex
                lower[mover] = max(lower[mover], -room)
            else:  # an outward move does at a concave one
                upper[mover] = min(upper[mover], room)
    return np.minimum(lower, 0), np.maximum(upper, 0)


def facing_gaps(segs: SegmentSet, space_reach_nm: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per segment, the distance to the nearest facing edge ahead (a space) and behind (a width).

    A facing edge lies on the same axis with the opposite normal; ahead means outside the segment (across a
    gap), behind means inside (across the feature). Width partners must overlap the segment's span; space
    partners may lie up to ``space_reach_nm`` beside it.

    Returns:
        (space, width): (S,) int64, in nm; ``NO_GAP`` where there is no such edge.
    """
    space = np.full(len(segs), NO_GAP, dtype=np.int64)
    width = np.full(len(segs), NO_GAP, dtype=np.int64)
    for axis in (0, 1):
        idx = np.flatnonzero(segs.axis == axis)
        if idx.size == 0:
            continue
        pos, lo, hi = segs.pos[idx], segs.lo[idx], segs.hi[idx]
        nrm = segs.normal[idx].astype(np.int64)
        ahead = (pos[None, :] - pos[:, None]) * nrm[:, None]  # (i, j): > 0 j lies outside i, < 0 inside
        facing = nrm[None, :] == -nrm[:, None]
        near = (lo[None, :] < hi[:, None] + space_reach_nm) & (hi[None, :] > lo[:, None] - space_reach_nm)
        overlap = (lo[None, :] < hi[:, None]) & (hi[None, :] > lo[:, None])
        space[idx] = np.where(facing & near & (ahead > 0), ahead, NO_GAP).min(axis=1)
        width[idx] = np.where(facing & overlap & (ahead < 0), -ahead, NO_GAP).min(axis=1)
    return space, width


def merge_jogs(
    segs: SegmentSet, offsets: np.ndarray, lower: np.ndarray, upper: np.ndarray, tol_nm: int
) -> np.ndarray:
    """Give neighbouring pieces of one target edge a common offset where they differ by at most ``tol_nm``.

    Each jog between pieces of an edge costs a mask shot; steps of a nanometre or two change the print by far
    less than the rounding noise. Runs are grown left to right along each edge while every member stays within
    ``tol_nm`` of the run's first offset; the run takes its length-weighted mean, clipped to the bounds that all
    members share (a run whose bounds do not intersect is left alone).

    Args:
        segs: the segments.
        offsets: (S,) integer offsets. In nm.
        lower, upper: (S,) bounds from :func:`move_bounds`.
        tol_nm: largest difference merged; 0 merges nothing.

    Returns:
        (S,) int64 merged offsets.
    """
    out = np.asarray(np.rint(offsets), dtype=np.int64).copy()
    if tol_nm <= 0:
        return out
    length = segs.length.astype(np.float64)
    for loop in segs.loops:
        runs: list[list[int]] = []
        for s in loop:
            same_edge = runs and segs.start_corner[s] < 0 and abs(out[s] - out[runs[-1][0]]) <= tol_nm
            if same_edge:
                runs[-1].append(int(s))
            else:
                runs.append([int(s)])
        for run in runs:
            if len(run) < 2:
                continue
            members = np.asarray(run)
            lo, hi = lower[members].max(), upper[members].min()
            if lo > hi:
                continue
            value = int(np.rint(np.average(out[members], weights=length[members])))
            out[members] = min(max(value, lo), hi)
    return out
