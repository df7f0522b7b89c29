from __future__ import annotations

import numpy as np
import pytest

from tools.common import InputError
from tools.litho.clips import load_clip
from tools.litho.evaluate_tool import LithoEvaluateArgs, load_mask, run_litho_evaluate
from tools.litho.images import save_mask_png
from tools.litho.layout import mask_to_rects, write_gds
from tools.litho.raster import rasterize


@pytest.fixture(scope="module")
def case10_target(litho_data: None) -> np.ndarray:
    return rasterize(load_clip("M1_test10").layout)


def test_npy_png_and_gds_masks_load_identically(case10_target: np.ndarray, tmp_path) -> None:
    clip = load_clip("M1_test10")
    np.save(tmp_path / "m.npy", case10_target)
    save_mask_png(case10_target, tmp_path / "m.png")
    write_gds(tmp_path / "m.gds", mask_to_rects(case10_target), offset=clip.offset)  # back in design coordinates
    for ext in ("npy", "png", "gds"):
        np.testing.assert_array_equal(load_mask(tmp_path / f"m.{ext}", clip), case10_target)


def test_evaluate_reports_contest_metrics_and_pictures(case10_target: np.ndarray, tmp_path) -> None:
    np.save(tmp_path / "m.npy", case10_target)
    result = run_litho_evaluate(
        LithoEvaluateArgs(clip="M1_test10", mask=str(tmp_path / "m.npy"), out_dir=str(tmp_path))
    )
    m = result.metrics
    assert (m.l2, m.pvb, m.shots, m.mrc_violations) == (41732, 15004, 4, 0)
    assert m.epe_openilt >= m.epe_contest > 0
    assert (tmp_path / "print.png").is_file() and (tmp_path / "pvband.png").is_file()


def test_mask_of_the_wrong_shape_names_the_expected_shape(litho_data: None, tmp_path) -> None:
    np.save(tmp_path / "small.npy", np.zeros((512, 512), dtype=np.float32))
    with pytest.raises(InputError, match=r"mask: 'small.npy of shape \(512, 512\)'.*\(2048, 2048\)"):
        run_litho_evaluate(LithoEvaluateArgs(clip="M1_test10", mask=str(tmp_path / "small.npy")))


def test_unknown_mask_format_lists_suffixes(litho_data: None, tmp_path) -> None:
    with pytest.raises(InputError, match=r"\.npy, \.png, \.gds, \.oas"):
        run_litho_evaluate(LithoEvaluateArgs(clip="M1_test10", mask=str(tmp_path / "m.tif")))
