from __future__ import annotations

import numpy as np
import pytest

from tools.common import InputError
from tools.litho.clips import load_clip
from tools.litho.raster import rasterize


@pytest.mark.parametrize(("clip", "exact", "inclusive"), [("M1_test1", 215344, 218902), ("M1_test10", 102400, 104004)])
def test_clip_pixel_counts_in_both_conventions(litho_data: None, clip: str, exact: int, inclusive: int) -> None:
    layout = load_clip(clip).layout
    assert rasterize(layout, convention="exact").sum() == exact
    assert rasterize(layout, convention="inclusive").sum() == inclusive


def test_rectangle_fills_half_open_or_closed() -> None:
    rect = np.array([[3, 5, 9, 7]])  # x 3..9, y 5..7
    exact = rasterize(rect, size=16)
    inclusive = rasterize(rect, size=16, convention="inclusive")
    assert exact.sum() == 6 * 2 and exact[5:7, 3:9].all()
    assert inclusive.sum() == 7 * 3 and inclusive[5:8, 3:10].all()
    assert exact.dtype == np.float32 and exact.shape == (16, 16)


def test_inclusive_fill_is_the_closed_polygon_lattice_points() -> None:
    # L-shape: lattice points in the closed polygon = area + perimeter / 2 + 1 (Pick's theorem).
    poly = np.array([[2, 2], [12, 2], [12, 6], [6, 6], [6, 12], [2, 12]])
    img = rasterize([poly], size=16, convention="inclusive")
    area, perimeter = 10 * 4 + 4 * 6, 2 * (10 + 10)
    assert img.sum() == area + perimeter // 2 + 1


def test_unknown_convention_lists_accepted() -> None:
    with pytest.raises(InputError, match="convention: 'cv2'.*exact, inclusive"):
        rasterize(np.array([[0, 0, 1, 1]]), size=4, convention="cv2")  # type: ignore[arg-type]


def test_shape_outside_canvas_is_an_input_error() -> None:
    with pytest.raises(InputError, match="canvas"):
        rasterize(np.array([[0, 0, 20, 5]]), size=16)
