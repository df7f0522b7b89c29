from __future__ import annotations

import numpy as np
from PIL import Image

from tools.litho.images import load_mask_png, save_mask_png, save_print_png, save_pvband_png


def test_mask_png_roundtrip_is_lossless(tmp_path) -> None:
    mask = (np.random.default_rng(0).random((32, 48)) > 0.5).astype(np.float32)
    path = save_mask_png(mask, tmp_path / "sub" / "m.png")
    assert Image.open(path).mode == "1"
    np.testing.assert_array_equal(load_mask_png(path), mask)


def test_print_overlay_colours_hits_misses_and_extras(tmp_path) -> None:
    target = np.zeros((4, 4))
    target[:, :2] = 1
    printed = np.zeros((4, 4))
    printed[:, 1:3] = 1
    rgb = np.asarray(Image.open(save_print_png(target, printed, tmp_path / "p.png")))
    assert rgb[0, 0].tolist() == [220, 60, 60]  # missed
    assert rgb[0, 1].tolist() == [70, 70, 70]  # printed and wanted
    assert rgb[0, 2].tolist() == [60, 110, 220]  # printed, not wanted
    assert rgb[0, 3].tolist() == [255, 255, 255]


def test_pvband_overlay_marks_differing_corners(tmp_path) -> None:
    target = np.ones((2, 2))
    high = np.ones((2, 2))
    low = np.eye(2)
    rgb = np.asarray(Image.open(save_pvband_png(target, high, low, tmp_path / "b.png")))
    assert rgb[0, 1].tolist() == [245, 160, 30] and rgb[0, 0].tolist() == [205, 205, 205]
