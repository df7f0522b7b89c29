"""Edge fragmentation: piece counts and lengths, outward normals, corners, and rebuilding moved polygons."""

from __future__ import annotations

import numpy as np
import pytest

from tools.common import InputError
from tools.opc.segments import KIND_CORNER, KIND_LINE_END, KIND_RUN, fragment, moved_polygons

RECT = np.array([[100, 100], [100, 200], [400, 200], [400, 100]])  # 300 x 100, clockwise in (x, y)
L_SHAPE = np.array([[0, 0], [200, 0], [200, 80], [80, 80], [80, 300], [0, 300]])  # counter-clockwise


def _inside(poly: np.ndarray, x: float, y: float) -> bool:
    """Even-odd point-in-polygon test for rectilinear polygons (vertical edges only)."""
    crossings = 0
    for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0)):
        if x0 == x1 and min(y0, y1) <= y < max(y0, y1) and x < x0:
            crossings += 1
    return crossings % 2 == 1


def test_rectangle_long_edges_are_cut_and_short_edges_are_line_ends() -> None:
    segs = fragment([RECT], segment_length_nm=60)
    long_edges = segs.axis == 1  # horizontal, 300 nm
    assert long_edges.sum() == 2 * 5  # ceil(300 / 60) pieces per long edge
    assert np.all(segs.length[long_edges] == 60)
    assert np.all(segs.kind[~long_edges] == KIND_LINE_END)  # the 100 nm ends are one piece each
    assert set(segs.kind[long_edges]) == {KIND_CORNER, KIND_RUN}
    assert len(segs.corners) == 4 and np.all(segs.corners[:, 4] == 1)


def test_pieces_cover_each_edge_exactly_without_overlap() -> None:
    segs = fragment([L_SHAPE], segment_length_nm=50)
    perimeter = sum(np.abs(np.diff(np.vstack([L_SHAPE, L_SHAPE[:1]]), axis=0)).sum(axis=1))
    assert segs.length.sum() == perimeter
    cut = segs.kind != KIND_LINE_END
    assert segs.length[cut].max() <= 50
    assert segs.length[~cut].max() <= 2 * 50  # the two 80 nm line ends stay whole


@pytest.mark.parametrize("poly", [RECT, RECT[::-1], L_SHAPE, L_SHAPE[::-1]])
def test_normals_point_out_of_the_polygon_for_either_orientation(poly: np.ndarray) -> None:
    segs = fragment([poly], segment_length_nm=60)
    mid, nrm = segs.check_points(), segs.normals()
    for (x, y), (nx, ny) in zip(mid, nrm):
        assert not _inside(poly, x + 0.5 * nx + 0.25 * ny, y + 0.5 * ny + 0.25 * nx)
        assert _inside(poly, x - 0.5 * nx + 0.25 * ny, y - 0.5 * ny + 0.25 * nx)


def test_l_shape_has_one_concave_corner() -> None:
    segs = fragment([L_SHAPE], segment_length_nm=60)
    assert sorted(segs.corners[:, 4].tolist()) == [-1, 1, 1, 1, 1, 1]
    concave = segs.corners[segs.corners[:, 4] == -1][0]
    assert tuple(concave[2:4]) == (80, 80)
    v, h = concave[:2]
    assert segs.axis[v] == 0 and segs.axis[h] == 1


def test_zero_moves_rebuild_the_target_polygon() -> None:
    segs = fragment([L_SHAPE, RECT + 500], segment_length_nm=40)
    rebuilt = moved_polygons(segs, np.zeros(len(segs)))
    for original, poly in zip([L_SHAPE, RECT + 500], rebuilt):
        assert {tuple(p) for p in poly} == {tuple(p) for p in original}


def test_moving_a_line_end_extends_the_rectangle() -> None:
    segs = fragment([RECT], segment_length_nm=60)
    offsets = np.where(segs.kind == KIND_LINE_END, 7, 0)
    (poly,) = moved_polygons(segs, offsets)
    xs, ys = poly[:, 0], poly[:, 1]
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (93, 407, 100, 200)


def test_collinear_and_repeated_vertices_are_cleaned() -> None:
    noisy = np.array([[0, 0], [0, 50], [0, 100], [100, 100], [100, 100], [100, 0], [0, 0]])
    segs = fragment([noisy], segment_length_nm=60)
    assert len(segs.corners) == 4


def test_non_manhattan_polygon_is_rejected_with_the_field_name() -> None:
    with pytest.raises(InputError, match=r"polygons\[0\]"):
        fragment([np.array([[0, 0], [100, 10], [100, 100], [0, 100]])])


def test_segment_length_below_two_is_rejected() -> None:
    with pytest.raises(InputError, match="segment_length_nm"):
        fragment([RECT], segment_length_nm=1)
