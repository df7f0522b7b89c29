"""Segment topology on hand-made shapes whose classes and distances are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from tools.opc.segments import fragment
from tools.opc.topology import (
    FEATURE_NAMES,
    TOPO_CONCAVE,
    TOPO_CONVEX,
    TOPO_JOG,
    TOPO_LINE_END,
    TOPO_RUN,
    TOPO_VIA,
    TopologyConfig,
    segment_topology,
)


def rect(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.int64)


def find(segs, axis: int, pos: int, lo: int | None = None) -> np.ndarray:
    """Indices of segments on the edge ``axis``/``pos`` (optionally starting at ``lo``)."""
    hit = (segs.axis == axis) & (segs.pos == pos)
    if lo is not None:
        hit &= segs.lo == lo
    return np.flatnonzero(hit)


def test_line_rectangle_classes_widths_and_corner_distances():
    segs = fragment([rect(0, 0, 100, 300)], 60)
    topo = segment_topology(segs)
    ends = np.flatnonzero(segs.axis == 1)
    assert len(ends) == 2 and np.all(topo.cls[ends] == TOPO_LINE_END)
    assert np.all(topo.width_nm[ends] == 300)
    assert np.allclose(topo.corner_nm[ends], 50.0)  # midpoint (50, 0) to vertex (0, 0)
    left = find(segs, 0, 0)
    order = left[np.argsort(segs.lo[left])]
    assert [int(topo.cls[i]) for i in order] == [TOPO_CONVEX, TOPO_RUN, TOPO_RUN, TOPO_RUN, TOPO_CONVEX]
    assert np.all(topo.width_nm[left] == 100)
    assert np.allclose(topo.corner_nm[order], [30, 90, 150, 90, 30])
    assert np.all(topo.space_nm == TopologyConfig().space_cap_nm) and not topo.dense.any()


def test_space_to_a_neighbour_and_dense_flag():
    segs = fragment([rect(0, 0, 100, 300), rect(180, 0, 280, 300)], 60)
    topo = segment_topology(segs)
    facing = np.concatenate([find(segs, 0, 100), find(segs, 0, 180)])
    assert np.all(topo.space_nm[facing] == 80) and topo.dense[facing].all()
    outer = np.concatenate([find(segs, 0, 0), find(segs, 0, 280)])
    assert np.all(topo.space_nm[outer] == 500) and not topo.dense[outer].any()
    small_cap = segment_topology(segs, TopologyConfig(space_cap_nm=50, iso_space_nm=60))
    assert np.all(small_cap.space_nm[facing] == 50)


def test_via_edges_are_whole_and_classed_via():
    segs = fragment([rect(500, 500, 570, 570), rect(700, 500, 770, 570)], 60)
    topo = segment_topology(segs)
    assert len(segs) == 8 and np.all(topo.cls == TOPO_VIA)
    assert np.all(topo.width_nm == 70)
    gap = np.concatenate([find(segs, 0, 570), find(segs, 0, 700)])
    assert np.all(topo.space_nm[gap] == 130)


def test_l_shape_concave_corner_pieces():
    l_shape = np.array([[0, 0], [300, 0], [300, 100], [100, 100], [100, 300], [0, 300]])
    for poly in (l_shape, l_shape[::-1]):  # both orientations give the same answer
        segs = fragment([poly], 60)
        topo = segment_topology(segs)
        foot_top = find(segs, 1, 100)
        by_x = foot_top[np.argsort(segs.lo[foot_top])]
        assert topo.cls[by_x[0]] == TOPO_CONCAVE and topo.cls[by_x[-1]] == TOPO_CONVEX
        assert np.all(topo.width_nm[foot_top] == 100)
        inner = find(segs, 0, 100)
        by_y = inner[np.argsort(segs.lo[inner])]
        assert topo.cls[by_y[0]] == TOPO_CONCAVE and topo.cls[by_y[-1]] == TOPO_CONVEX
        assert np.all(topo.width_nm[inner] == 100) and np.all(topo.space_nm[inner] == 500)
        assert topo.cls[find(segs, 0, 300)[0]] == TOPO_LINE_END
        assert np.isclose(topo.corner_nm[by_x[0]], np.hypot(125 - 100, 0))  # piece [100, 150): midpoint 125


def test_jog_between_convex_and_concave_vertex():
    step = np.array([[0, 0], [300, 0], [300, 120], [150, 120], [150, 100], [0, 100]])
    segs = fragment([step], 60)
    topo = segment_topology(segs)
    jog = find(segs, 0, 150)
    assert len(jog) == 1 and topo.cls[jog[0]] == TOPO_JOG
    assert topo.width_nm[jog[0]] == 150  # across to the right edge x = 300


def test_features_shape_and_ranges():
    segs = fragment([rect(0, 0, 100, 300), rect(500, 500, 570, 570)], 60)
    feats = segment_topology(segs).features()
    assert feats.shape == (len(segs), len(FEATURE_NAMES)) and feats.dtype == np.float32
    assert np.all(feats[:, :6].sum(1) == 1)
    bounded = [i for i, n in enumerate(FEATURE_NAMES) if n != "length"]
    assert feats[:, bounded].min() >= 0 and feats[:, bounded].max() <= 1


def test_empty_segment_set():
    topo = segment_topology(fragment([], 60))
    assert len(topo) == 0 and topo.features().shape == (0, len(FEATURE_NAMES))


@pytest.mark.parametrize("via_max", [60, 120])
def test_via_threshold(via_max):
    segs = fragment([rect(0, 0, 70, 70)], 60)
    cls = segment_topology(segs, TopologyConfig(via_max_nm=via_max)).cls
    assert np.all(cls == (TOPO_VIA if via_max >= 70 else TOPO_LINE_END))
