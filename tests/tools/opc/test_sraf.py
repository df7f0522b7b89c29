"""Rule-based assist bars: placement distance and width, keep-out from the target, rule errors, move caps."""

from __future__ import annotations

import numpy as np
import pytest

from tools.common import InputError
from tools.opc.segments import fragment
from tools.opc.sraf import outward_cap, place_srafs, printed_pixels
from tools.opc.topology import segment_topology


def _line(n: int = 1024) -> tuple[list[np.ndarray], np.ndarray]:
    """One isolated vertical line 60 nm wide, 600 nm long, in the middle of an n x n canvas."""
    poly = np.asarray([[500, 200], [560, 200], [560, 800], [500, 800]])
    target = np.zeros((n, n), np.float32)
    target[200:800, 500:560] = 1
    return [poly], target


def test_bars_sit_at_the_distance_with_the_width_and_keep_clear_of_the_target() -> None:
    polys, target = _line()
    segs = fragment(polys, 60)
    topo = segment_topology(segs)
    bars = place_srafs(segs, topo.space_nm, target, distance_nm=100, width_nm=30)
    row = bars[500]  # a row through the middle of the line: one bar each side
    cols = np.flatnonzero(row)
    assert cols.tolist() == list(range(500 - 100 - 30, 500 - 100)) + list(range(560 + 100, 560 + 100 + 30))
    ys, xs = np.nonzero(bars)
    ty, tx = np.nonzero(target)
    # Chebyshev distance from every bar pixel to the target is at least the bar distance
    gap = np.maximum(np.maximum(tx.min() - xs, xs - tx.max()), np.maximum(ty.min() - ys, ys - ty.max()))
    assert gap.min() >= 100
    assert printed_pixels(bars, bars) == int(bars.sum()) and printed_pixels(np.zeros_like(bars), bars) == 0


def test_narrow_gaps_get_one_centred_bar_or_none() -> None:
    n = 1024
    polys = [np.asarray([[300, 200], [360, 200], [360, 800], [300, 800]]),
             np.asarray([[560, 200], [620, 200], [620, 800], [560, 800]])]  # 200 nm gap between the lines
    target = np.zeros((n, n), np.float32)
    target[200:800, 300:360] = 1
    target[200:800, 560:620] = 1
    segs = fragment(polys, 60)
    topo = segment_topology(segs)
    bars = place_srafs(segs, topo.space_nm, target, distance_nm=70, width_nm=30)
    inner = np.flatnonzero(bars[500, 360:560]) + 360
    assert inner.tolist() == list(range(445, 475))  # one bar, centred in the 200 nm gap
    none = place_srafs(segs, topo.space_nm, target, distance_nm=90, width_nm=30)
    assert not none[500, 360:560].any()  # 2 * 90 + 30 > 200: no room for a bar
    cap = outward_cap(segs, topo.space_nm, 70, 30)
    facing = (segs.axis == 0) & (topo.space_nm == 200)
    assert facing.any() and (cap[facing] == (200 - 30) // 2 - 20).all()


@pytest.mark.parametrize(("kwargs", "field"), [({"distance_nm": 100, "width_nm": 12}, "sraf_width_nm"),
                                               ({"distance_nm": 20, "width_nm": 30}, "sraf_distance_nm")])
def test_rule_breaking_bars_are_refused(kwargs: dict, field: str) -> None:
    polys, target = _line()
    segs = fragment(polys, 60)
    with pytest.raises(InputError) as err:
        place_srafs(segs, segment_topology(segs).space_nm, target, **kwargs)
    assert err.value.field == field
