"""EPE-feedback OPC: the edge measurement is exact on a linear profile, and a few rounds improve a clip."""

from __future__ import annotations

import numpy as np
import pytest

from tools.litho.simulator import THRESHOLD
from tools.opc.configs import MBOPCConfig
from tools.opc.mbopc import measure_epe, optimize_mbopc
from tools.opc.segments import fragment

BOX = np.array([[100, 100], [100, 300], [260, 300], [260, 100]])
UNCORRECTED_L2 = 41732  # M1_test10 printed as drawn, exact raster (tests/tools/litho, `litho simulate`)


def _linear_image(shift: float, slope: float = 0.01, size: int = 512) -> np.ndarray:
    """Intensity falling linearly with the (Chebyshev) distance of pixel centres from BOX grown by ``shift``."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    dx = np.maximum(100 - shift - xx, xx - (260 + shift))
    dy = np.maximum(100 - shift - yy, yy - (300 + shift))
    return THRESHOLD - slope * np.maximum(dx, dy)


@pytest.mark.parametrize("shift", [0.0, 5.3, -7.6])
def test_measured_epe_is_the_printed_edge_offset(shift: float) -> None:
    segs = fragment([BOX], 60)
    epe = measure_epe(_linear_image(shift), segs, search_nm=30)
    np.testing.assert_allclose(epe, shift, atol=1e-9)


def test_missing_print_reports_the_search_limit() -> None:
    segs = fragment([BOX], 60)
    dark = np.zeros((512, 512))
    assert np.all(measure_epe(dark, segs, search_nm=25) == -25)
    assert np.all(measure_epe(dark + 1.0, segs, search_nm=25) == 25)


def test_few_rounds_reduce_l2_legally(sim) -> None:
    from tools.litho.clips import load_clip
    from tools.litho.metrics import evaluate_mask
    from tools.litho.raster import rasterize
    from tools.opc.diffopc import edge_model

    clip = load_clip("M1_test10")
    target = rasterize(clip.layout)
    model = edge_model(clip.layout.polygons, 60, sim.size, inclusive=False)
    result = optimize_mbopc(model, target, sim, MBOPCConfig(iterations=4))
    after = evaluate_mask(result.mask, target, sim)
    assert after.l2 < 0.6 * UNCORRECTED_L2 and after.mrc_violations == 0
    assert result.history[0]["l2"] == UNCORRECTED_L2  # round 0 prints the target as drawn
    assert [h["iteration"] for h in result.history] == [0, 1, 2, 3]
