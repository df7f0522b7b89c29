from __future__ import annotations

import numpy as np
import pytest

from tools.common import InputError
from tools.litho.clips import load_clip
from tools.litho.layout import mask_to_rects
from tools.litho.metrics import (
    epe,
    epe_checkpoints,
    evaluate_mask,
    l2,
    mrc_check,
    pv_band,
    shot_count,
)
from tools.litho.raster import rasterize
from tools.litho.simulator import LithoSim


def _rect_target() -> np.ndarray:
    """200 rows x 50 columns at rows 100..299, columns 100..149."""
    t = np.zeros((400, 400), dtype=np.float32)
    t[100:300, 100:150] = 1
    return t


def test_l2_and_pv_band_count_differing_pixels() -> None:
    a = np.zeros((8, 8))
    b = a.copy()
    b[2:4, 2:5] = 1
    assert l2(b, a) == 6 and pv_band(a, b) == 6 and l2(a, a) == 0


def test_l2_rejects_mismatched_shapes() -> None:
    with pytest.raises(InputError, match="printed"):
        l2(np.zeros((4, 4)), np.zeros((8, 8)))


def test_checkpoints_follow_the_40nm_rule_and_the_short_edge_rule() -> None:
    pts = epe_checkpoints(_rect_target())
    left = sorted(p[0] for p in pts if p[1] == 100 and p[3] == 1)
    assert left == [140, 180, 219, 259]  # 40 nm from each end, every 40 nm, up to the middle (row 199)
    assert sorted(map(tuple, pts[pts[:, 2] != 0].tolist())) == [(100, 124, 1, 0), (299, 124, -1, 0)]
    assert len(pts) == 10


@pytest.mark.parametrize(("shift", "contest", "openilt"), [(15, 0, 0), (16, 4, 4)])
def test_pulled_in_edge_violates_beyond_15nm(shift: int, contest: int, openilt: int) -> None:
    target = _rect_target()
    printed = target.copy()
    printed[:, 100 : 100 + shift] = 0  # left edge moved inward
    assert epe(printed, target, "contest") == contest
    assert epe(printed, target, "openilt") == openilt


@pytest.mark.parametrize(("grow", "contest", "openilt"), [(14, 0, 0), (15, 0, 4), (16, 4, 4)])
def test_pushed_out_edge_contest_vs_openilt_probe(grow: int, contest: int, openilt: int) -> None:
    target = _rect_target()
    printed = target.copy()
    printed[100:300, 100 - grow : 100] = 1  # left edge moved outward
    assert epe(printed, target, "contest") == contest
    assert epe(printed, target, "openilt") == openilt


def test_openilt_counts_inner_and_outer_separately() -> None:
    target = _rect_target()
    printed = np.ones_like(target)
    printed[:, 115] = 0  # every outer probe printed; the left edge's inner probes not
    assert epe(printed, target, "contest") == 10
    assert epe(printed, target, "openilt") == 10 + 4


def test_unknown_epe_convention_lists_accepted() -> None:
    with pytest.raises(InputError, match="convention: 'iccad'.*contest, openilt"):
        epe(_rect_target(), _rect_target(), "iccad")  # type: ignore[arg-type]


def test_shot_count_of_simple_shapes() -> None:
    m = np.zeros((64, 64))
    m[10:30, 10:20] = 1
    assert shot_count(m) == 1
    m[20:30, 20:50] = 1  # L-shape
    assert shot_count(m) == 2
    assert shot_count(m, grid=32) == 2


def test_shot_count_takes_the_better_orientation() -> None:
    comb = np.zeros((64, 64))
    comb[10:14, 10:40] = 1  # bar with three teeth of different lengths hanging down
    comb[14:50, 10:14] = comb[14:40, 20:24] = comb[14:30, 30:34] = 1
    assert len(mask_to_rects(comb)) == 4 and len(mask_to_rects(comb.T)) == 6
    assert shot_count(comb) == shot_count(comb.T) == 4


def test_shot_grid_must_divide_the_mask() -> None:
    with pytest.raises(InputError, match="grid"):
        shot_count(np.zeros((64, 64)), grid=48)


def test_mrc_flags_thin_lines_narrow_gaps_and_small_shapes() -> None:
    clean = np.zeros((300, 300))
    clean[50:150, 50:150] = 1
    assert mrc_check(clean).violations == 0

    thin = clean.copy()
    thin[200:210, 50:250] = 1  # 10 nm wide line
    assert mrc_check(thin).details == {"width": 1, "space": 0, "area": 0}

    gap = clean.copy()
    gap[50:150, 160:260] = 1  # 10 nm space to the first square
    assert mrc_check(gap).details == {"width": 0, "space": 1, "area": 0}

    speck = clean.copy()
    speck[200:215, 200:215] = 1  # 15 x 15: too narrow and 225 < 400 nm^2
    report = mrc_check(speck)
    assert report.details == {"width": 1, "space": 0, "area": 1} and report.violations == 2


def test_evaluate_mask_on_case1_as_drawn(sim64: LithoSim) -> None:
    target = rasterize(load_clip("M1_test1").layout)
    metrics = evaluate_mask(target, target, sim64)
    assert (metrics.l2, metrics.pvb, metrics.shots, metrics.mrc_violations) == (116661, 42918, 16, 0)
    # Measured here with these definitions (not published): the unoptimised print misses many edges.
    assert (metrics.epe_contest, metrics.epe_openilt) == (82, 85)


def test_evaluate_mask_rejects_a_wrong_shape(sim: LithoSim) -> None:
    with pytest.raises(InputError, match=r"mask.*\(2048, 2048\)"):
        evaluate_mask(np.zeros((512, 512)), np.zeros((2048, 2048)), sim)
