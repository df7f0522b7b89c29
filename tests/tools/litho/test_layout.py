from __future__ import annotations

import gdstk
import numpy as np
import pytest

from tools.common import InputError, shared_data_dir
from tools.litho.layout import Layout, mask_to_rects, polygon_to_rects, read_gds, read_glp, write_gds
from tools.litho.raster import rasterize

# polygons / vertices / exact area per ICCAD13 clip (shared/data/iccad13/README.md)
ICCAD13_FACTS = {
    1: (10, 52, 215344),
    2: (8, 40, 169280),
    3: (12, 64, 213504),
    4: (3, 12, 82560),
    5: (4, 34, 282044),
    6: (3, 38, 286234),
    7: (3, 20, 229149),
    8: (3, 20, 128544),
    9: (4, 44, 317581),
    10: (4, 16, 102400),
}


def _area(rects: np.ndarray) -> int:
    return int(((rects[:, 2] - rects[:, 0]) * (rects[:, 3] - rects[:, 1])).sum())


@pytest.mark.parametrize("case", sorted(ICCAD13_FACTS))
def test_read_glp_matches_readme_counts_and_area(litho_data: None, case: int) -> None:
    layout = read_glp(shared_data_dir("iccad13") / f"M1_test{case}.glp")
    n_poly, n_vert, area = ICCAD13_FACTS[case]
    assert len(layout.polygons) == n_poly
    assert sum(len(p) for p in layout.polygons) == n_vert
    assert _area(layout.rects()) == area


def test_read_glp_rect_vertex_order_follows_reference_parsers(tmp_path) -> None:
    path = tmp_path / "r.glp"
    path.write_text("BEGIN\nEQUIV  1  1000  MICRON  +X,+Y\nCELL T PRIME\n   RECT N M1  10  20  30  40\nENDMSG\n")
    (poly,) = read_glp(path).polygons
    assert poly.tolist() == [[10, 20], [10, 60], [40, 60], [40, 20]]


def test_read_glp_without_shapes_names_the_field(tmp_path) -> None:
    path = tmp_path / "empty.glp"
    path.write_text("BEGIN\nENDMSG\n")
    with pytest.raises(InputError, match="path.*RECT or PGON"):
        read_glp(path)


def test_polygon_to_rects_of_a_u_shape_is_disjoint_and_exact() -> None:
    u = np.array([[0, 0], [30, 0], [30, 30], [20, 30], [20, 10], [10, 10], [10, 30], [0, 30]])
    rects = polygon_to_rects(u)
    assert _area(rects) == 30 * 30 - 10 * 20
    canvas = np.zeros((40, 40), dtype=int)
    for x0, y0, x1, y1 in rects:
        canvas[y0:y1, x0:x1] += 1
    assert canvas.max() == 1
    assert rects.tolist() == [[0, 0, 30, 10], [0, 10, 10, 30], [20, 10, 30, 30]]


def test_polygon_to_rects_rejects_a_diagonal_edge() -> None:
    with pytest.raises(InputError, match="rectilinear"):
        polygon_to_rects(np.array([[0, 0], [10, 0], [0, 10]]))


def test_mask_to_rects_partitions_any_mask_exactly() -> None:
    rng = np.random.default_rng(0)
    mask = (rng.random((64, 64)) > 0.6).astype(np.float32)
    rects = mask_to_rects(mask)
    np.testing.assert_array_equal(rasterize(rects, size=64), mask)
    assert _area(rects) == mask.sum()


def test_mask_to_rects_of_a_rectangle_is_one_shot() -> None:
    mask = np.zeros((50, 50))
    mask[5:25, 10:40] = 1
    assert mask_to_rects(mask).tolist() == [[10, 5, 40, 25]]


def test_gds_roundtrip_keeps_polygons_and_applies_offset(tmp_path) -> None:
    layout = Layout([np.array([[100, 100], [100, 180], [160, 180], [160, 100]])], "t")
    path = write_gds(tmp_path / "m.gds", layout, layer=7, datatype=2, offset=(100, 0))
    back = read_gds(path, layer=7, datatype=2)
    assert sorted(map(tuple, back.polygons[0].tolist())) == [(0, 100), (0, 180), (60, 100), (60, 180)]


def test_write_gds_accepts_rectangles_and_oasis(tmp_path) -> None:
    rects = np.array([[0, 0, 10, 20], [30, 0, 40, 5]])
    path = write_gds(tmp_path / "r.oas", rects, layer=1)
    back = read_gds(path, layer=1)
    assert _area(back.rects()) == 10 * 20 + 10 * 5


def test_read_gds_empty_layer_lists_layers_present(tmp_path) -> None:
    lib = gdstk.Library()
    cell = lib.new_cell("TOP")
    cell.add(gdstk.rectangle((0, 0), (1, 1), layer=5, datatype=1))
    lib.write_gds(tmp_path / "a.gds")
    with pytest.raises(InputError, match=r"layer: '3/0'.*5/1"):
        read_gds(tmp_path / "a.gds", layer=3)


def test_read_gds_unknown_cell_lists_cells(tmp_path) -> None:
    write_gds(tmp_path / "a.gds", np.array([[0, 0, 5, 5]]), cell="ONLY")
    with pytest.raises(InputError, match="cell: 'NOPE'.*ONLY"):
        read_gds(tmp_path / "a.gds", layer=0, cell="NOPE")


@pytest.mark.parametrize("name", ["broken.gds", "broken.oas"])
def test_read_gds_of_a_damaged_file_is_an_input_error_naming_it(tmp_path, name: str) -> None:
    (tmp_path / name).write_bytes(b"\x00\x06\x00\x02\x02X\x00\x1ctruncated")
    with pytest.raises(InputError, match=rf"path: '.*{name}'.*readable"):
        read_gds(tmp_path / name, layer=1)


def test_scaled_layout_snaps_to_the_grid_and_refuses_collapsing_factors() -> None:
    u = Layout([np.array([[250, 235], [250, 510], [435, 510], [435, 235]])], "u")
    assert u.scaled(0.85).polygons[0].tolist() == [[212, 200], [212, 434], [370, 434], [370, 200]]
    assert u.scaled(0.85).polygons[0].dtype == np.int64
    for bad in (0.4, 2.5):
        with pytest.raises(InputError) as err:
            u.scaled(bad)
        assert err.value.field == "scale"
    sliver = Layout([np.array([[0, 0], [0, 1], [10, 1], [10, 0]])], "sliver")
    with pytest.raises(InputError, match="edge"):
        sliver.scaled(0.5)
