"""The cached layout set: rows per knob setting and placement seed, extended from the cache, scored per seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tools.analog.circuits import load_circuit
from tools.analog.dataset import LayoutSet, layout_set, set_scores
from tools.analog.models import gf180_library
from tools.analog.problem import LayoutOptions, Problem
from tools.analog.tech import GF180
from tools.common import InputError


def test_the_set_is_simulated_once_cached_and_extended(tmp_path: Path, ngspice: str) -> None:
    problem = Problem.build(load_circuit("OTA_5T"), "offset", LayoutOptions(), GF180, gf180_library(), tmp_path / "evals")
    small = layout_set(problem, 2, seeds=2, cache=tmp_path / "cache")
    assert small.unit.shape == (2, problem.space.dim) and small.cmrr_db.shape == (2, 2)
    assert np.isfinite(small.offset_v).all() and np.isfinite(small.cmrr_db).all()
    assert not np.allclose(small.offset_v[:, 0], small.offset_v[:, 1])  # another placement seed, another layout
    (path,) = (tmp_path / "cache").glob("analog_layouts_OTA_5T_*.json")
    assert LayoutSet.from_json(json.loads(path.read_text())).unit.shape[0] == 2
    spent = small.seconds
    again = layout_set(problem, 3, seeds=2, cache=tmp_path / "cache")  # two rows from the cache, one simulated
    assert np.array_equal(again.unit[:2], small.unit) and np.array_equal(again.offset_v[:2], small.offset_v)
    assert again.unit.shape[0] == 3 and again.seconds > spent


def test_scores_average_over_placement_seeds_with_the_chosen_base() -> None:
    data = LayoutSet("X", ["A"], np.zeros((2, 1)), np.array([[100.0, 110.0], [90.0, np.nan]]), np.zeros((2, 2)), 0.0)
    assert set_scores(data, "cmrr", 1, base=100.0).tolist() == pytest.approx([0.0, 0.1])
    mean = set_scores(data, "cmrr", base=100.0)
    assert mean[0] == pytest.approx(-0.05) and np.isnan(mean[1])  # a failed seed leaves no smoothed score
    assert set_scores(data, "cmrr")[0] == pytest.approx(-(105.0 - 80.0) / 80.0)  # LLANA's base by default
    with pytest.raises(InputError, match="metric"):
        set_scores(data, "gain")


def test_a_seed_averaged_problem_scores_the_mean_over_placements(tmp_path: Path, ngspice: str) -> None:
    circuit, lib = load_circuit("OTA_5T"), gf180_library()
    unit = np.full(4, 0.37)
    single = [Problem.build(circuit, "offset", LayoutOptions(placement_seed=s), GF180, lib, tmp_path / f"s{s}")(unit) for s in (0, 1)]
    mean = Problem.build(circuit, "offset", LayoutOptions(), GF180, lib, tmp_path / "mean", placement_seeds=2)(unit)
    assert mean.performance.cmrr_db == pytest.approx(np.mean([t.performance.cmrr_db for t in single]))
    assert mean.performance.offset_v == pytest.approx(np.mean([abs(t.performance.offset_v) for t in single]))
    assert mean.score == pytest.approx((mean.performance.offset_v - 1e-3) / 1e-3)
    with pytest.raises(InputError, match="placement_seeds"):
        Problem.build(circuit, "offset", LayoutOptions(), GF180, lib, tmp_path, placement_seeds=0)
