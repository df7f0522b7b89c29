"""The simulation tool end to end: schematic vs post-layout, a stored placement, non-convergence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.analog.models import gf180_library
from tools.analog.place_tool import AnalogPlaceArgs, run_analog_place
from tools.analog.simulate_tool import AnalogSimulateArgs, run_analog_simulate
from tools.common import InputError


def test_layout_moves_offset_and_cmrr_away_from_the_schematic(tmp_path: Path, ngspice: str) -> None:
    sch = run_analog_simulate(AnalogSimulateArgs(circuit="OTA_5T", layout="schematic", out_dir=str(tmp_path / "s")))
    post = run_analog_simulate(AnalogSimulateArgs(circuit="OTA_5T", net_weights={"X": 4}, out_dir=str(tmp_path / "p")))
    assert sch.converged and post.converged and sch.area_um2 is None and post.area_um2 > 0
    assert post.performance.offset_v != sch.performance.offset_v  # gradient + field + wire IR drops
    assert post.performance.gbw_hz < sch.performance.gbw_hz  # wire capacitance slows it down
    assert post.cmrr_score == pytest.approx(-(post.performance.cmrr_db - 80) / 80)
    assert set(post.artifacts) >= {"netlist", "log", "gds", "png", "layout"}
    assert post.versions["ngspice"] != "unknown" and post.sim_seconds < 5


def test_a_stored_placement_simulates_exactly_like_the_same_arguments(tmp_path: Path, ngspice: str) -> None:
    layout = dict(placement_seed=2, common_centroid=["M1"])
    placed = run_analog_place(AnalogPlaceArgs(circuit="OTA_5T", out_dir=str(tmp_path / "place"), **layout))
    a = run_analog_simulate(AnalogSimulateArgs(circuit="OTA_5T", placement_file=placed.artifacts["layout"], out_dir=str(tmp_path / "a")))
    b = run_analog_simulate(AnalogSimulateArgs(circuit="OTA_5T", out_dir=str(tmp_path / "b"), **layout))
    assert a.performance == b.performance and a.seed == 2
    assert a.pair_dvth_mv == b.pair_dvth_mv and abs(a.pair_dvth_mv["M1/M2"]) < 0.01  # the file's common centroid
    with pytest.raises(InputError, match="a layout of OTA_XT_MAGICAL"):
        run_analog_simulate(AnalogSimulateArgs(placement_file=placed.artifacts["layout"], out_dir=str(tmp_path / "c")))


def test_non_convergence_comes_back_as_such(tmp_path: Path, ngspice: str) -> None:
    crippled = tmp_path / "crippled.lib"
    crippled.write_text(".options noopiter gminsteps=0 srcsteps=0\n" + gf180_library().path.read_text())
    r = run_analog_simulate(AnalogSimulateArgs(circuit="OTA_5T", model_file=str(crippled), out_dir=str(tmp_path / "r")))
    assert not r.converged and "operating point" in r.message
    assert r.cmrr_score is None and r.performance.cmrr_db is None


def test_schematic_with_layout_arguments_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="layout: 'schematic'"):
        run_analog_simulate(AnalogSimulateArgs(circuit="OTA_5T", layout="schematic", net_weights={"X": 2}, out_dir=str(tmp_path)))
