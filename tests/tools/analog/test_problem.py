"""LLANA's score, the knob space (rounding, decimals, text) and net-weight validation."""

from __future__ import annotations

import numpy as np
import pytest

from tools.analog.circuits import load_circuit
from tools.analog.problem import POST_LAYOUT_BASES, KnobSpace, llana_score, net_weights, objective_text
from tools.analog.spice import Performance
from tools.common import InputError


def test_llana_score_follows_the_papers_bases_and_directions() -> None:
    perf = Performance(cmrr_db=100.0, offset_v=-0.5e-3)
    assert llana_score(perf, "cmrr") == pytest.approx(-0.25)  # -(100 - 80) / 80
    assert llana_score(perf, "offset") == pytest.approx(-0.5)  # (0.5 mV - 1 mV) / 1 mV, |offset|
    assert llana_score(perf, "both") == pytest.approx(-0.75)
    assert llana_score(Performance(offset_v=1e-3), "cmrr") is None


def test_decimals_follow_the_range_so_small_ranges_stay_readable() -> None:
    space = KnobSpace(("A", "B", "C"), ("weight of net A", "weight of net B", "weight of net C"), (0.0, 0.0, 0.0), (5.0, 0.5, 100.0))
    assert [space.decimals(k) for k in range(3)] == [2, 3, 0]
    assert space.ranges().splitlines()[1] == "- weight of net B: [0.000, 0.500]"  # not LLANA's [0, 0]
    values = space.to_values(np.array([0.4712, 0.4712, 0.4712]))
    assert values.tolist() == [2.36, 0.236, 47.0]
    assert space.describe(values) == "weight of net A: 2.36, weight of net B: 0.236, weight of net C: 47"
    assert np.allclose(space.to_unit(values), [0.472, 0.472, 0.47])


def test_net_weights_expand_pairs_and_reject_unknown_or_bad_values() -> None:
    c = load_circuit("OTA_5T")
    assert net_weights(c, {"tail": 2.0, "X": 0.5}) == {"TAIL": 2.0, "X": 0.5}
    with pytest.raises(InputError, match="net_weights: 'VS'.*TAIL, X, OUT, NB"):
        net_weights(c, {"VS": 1.0})
    with pytest.raises(InputError, match="net_weights.TAIL"):
        net_weights(c, {"TAIL": -1.0})


def test_pair_knobs_set_both_nets(analog_data: None) -> None:
    c = load_circuit("OTA_XT_MAGICAL")
    assert net_weights(c, {"VO1P": 2.5}) == {"VO1M": 2.5, "VO1P": 2.5}
    assert net_weights(c, {"VO1M/VO1P": 1.0}) == {"VO1M": 1.0, "VO1P": 1.0}


def test_other_bases_rescale_the_score_and_its_text() -> None:
    perf, xt = Performance(cmrr_db=115.5, offset_v=-0.05e-3), POST_LAYOUT_BASES["OTA_XT_MAGICAL"]
    assert llana_score(perf, "cmrr", xt) == pytest.approx(-0.1)  # -(115.5 - 105) / 105
    assert llana_score(perf, "offset", xt) == pytest.approx(-0.5)  # (0.05 - 0.1) / 0.1
    assert objective_text("both", xt) == "-(CMRR - 105 dB) / 105 dB + (|input offset| - 0.1 mV) / 0.1 mV"
    assert objective_text("cmrr") == "-(CMRR - 80 dB) / 80 dB (CMRR is maximised)"  # LLANA's by default
