"""Move bounds keep every combination of moves legal (binary raster, no MRC violation); jogs merge."""

from __future__ import annotations

import numpy as np
import pytest

from tools.litho.metrics import mrc_check
from tools.opc.legalize import MaskRules, merge_jogs, move_bounds
from tools.opc.segments import fragment
from tools.opc.spectrum import EdgeMask

LEFT = np.array([[100, 100], [160, 100], [160, 400], [100, 400]])  # 60 nm wide line
RIGHT = np.array([[220, 100], [320, 100], [320, 400], [220, 400]])  # 60 nm space to LEFT
U_SHAPE = np.array(  # a U whose notch is 50 nm wide, 120 nm deep
    [[400, 100], [600, 100], [600, 300], [525, 300], [525, 180], [475, 180], [475, 300], [400, 300]]
)
CORNER_NEIGHBOUR = np.array([[340, 430], [420, 430], [420, 520], [340, 520]])  # diagonal to RIGHT's corner
LAYOUT = [LEFT, RIGHT, U_SHAPE, CORNER_NEIGHBOUR]
RULES = MaskRules(min_width_nm=20, min_space_nm=20, max_move_nm=40)


def _segment_at(segs, axis: int, pos: int, y_inside: int) -> int:
    hits = np.flatnonzero((segs.axis == axis) & (segs.pos == pos) & (segs.lo <= y_inside) & (segs.hi > y_inside))
    assert hits.size == 1
    return int(hits[0])


def test_facing_edges_split_the_space_and_width_slack() -> None:
    segs = fragment(LAYOUT, 60)
    lower, upper = move_bounds(segs, RULES)
    right_edge_of_left = _segment_at(segs, 0, 160, 250)
    assert upper[right_edge_of_left] == (60 - 20) // 2  # space 60 nm to RIGHT
    assert lower[right_edge_of_left] == -((60 - 20) // 2)  # width 60 nm of LEFT
    notch_wall = _segment_at(segs, 0, 475, 250)
    assert upper[notch_wall] == (50 - 20) // 2


def test_bounds_are_capped_by_max_move_and_contain_zero() -> None:
    segs = fragment(LAYOUT, 60)
    lower, upper = move_bounds(segs, RULES)
    assert np.all(lower <= 0) and np.all(upper >= 0)
    assert lower.min() >= -40 and upper.max() <= 40


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_any_moves_inside_the_bounds_give_a_legal_binary_mask(seed: int) -> None:
    segs = fragment(LAYOUT, 60)
    lower, upper = move_bounds(segs, RULES)
    rng = np.random.default_rng(seed)
    extreme = np.where(rng.random(len(segs)) < 0.5, lower, upper)  # the worst cases sit on the bounds
    for offsets in (extreme, lower, upper, rng.integers(lower, upper + 1)):
        raster = EdgeMask(segs, size=1024).raster(offsets)
        assert set(np.unique(raster)) <= {0.0, 1.0}
        report = mrc_check(raster, RULES.min_width_nm, RULES.min_space_nm, min_area_nm2=400)
        assert report.violations == 0, report.details


def test_merge_jogs_joins_close_pieces_of_one_edge_only() -> None:
    segs = fragment([np.array([[0, 0], [0, 300], [100, 300], [100, 0]])], 60)
    left_edge = [s for s in segs.loops[0] if segs.axis[s] == 0 and segs.pos[s] == 0]
    offsets = np.zeros(len(segs), dtype=np.int64)
    offsets[left_edge] = [3, 4, 3, 12, 12]
    lower, upper = np.full(len(segs), -40), np.full(len(segs), 40)
    merged = merge_jogs(segs, offsets, lower, upper, tol_nm=2)
    assert merged[left_edge].tolist() == [3, 3, 3, 12, 12]
    assert merge_jogs(segs, offsets, lower, upper, tol_nm=0)[left_edge].tolist() == [3, 4, 3, 12, 12]


def test_merge_respects_the_bounds_the_run_shares() -> None:
    segs = fragment([np.array([[0, 0], [0, 300], [100, 300], [100, 0]])], 60)
    left_edge = [s for s in segs.loops[0] if segs.axis[s] == 0 and segs.pos[s] == 0]
    offsets = np.zeros(len(segs), dtype=np.int64)
    offsets[left_edge] = [5, 6, 6, 6, 6]
    lower, upper = np.full(len(segs), -40), np.full(len(segs), 40)
    upper[left_edge[0]] = 5
    assert merge_jogs(segs, offsets, lower, upper, tol_nm=2)[left_edge].tolist() == [5, 5, 5, 5, 5]
