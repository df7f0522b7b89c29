"""The placement tool: artefacts (GDS, PNG, JSON), metrics, pair mismatch, and argument errors."""

from __future__ import annotations

import json
from pathlib import Path

import gdstk
import pytest
from pydantic import ValidationError

from tools.analog.place_tool import AnalogPlaceArgs, run_analog_place
from tools.common import InputError


def test_place_writes_a_readable_gds_png_and_layout_json(tmp_path: Path) -> None:
    r = run_analog_place(AnalogPlaceArgs(circuit="OTA_5T", net_weights={"TAIL": 3.0}, common_centroid=["M1"], out_dir=str(tmp_path)))
    assert r.overlap_um2 < 1e-6 and r.cells == 5 and r.devices == 6
    assert r.net_weights == {"TAIL": 3.0, "X": 1.0, "OUT": 1.0, "NB": 1.0}
    plain = run_analog_place(AnalogPlaceArgs(circuit="OTA_5T", net_weights={"TAIL": 3.0}, out_dir=str(tmp_path / "plain")))
    # common centroid cancels the gradient exactly and the smooth field to first order
    assert abs(r.pair_dvth_mv["M1/M2"]) < 0.01 < abs(plain.pair_dvth_mv["M1/M2"])
    assert r.hpwl_um <= r.routed_um + 1e-9 and r.wire_resistors > 0 and r.wire_cap_f > 0
    lib = gdstk.read_gds(r.artifacts["gds"])
    layers = {p.layer for p in lib.cells[0].polygons}
    assert {6, 17, 32, 51} <= layers  # OD, poly, Metal2 routes, VIA1 at pins
    assert Path(r.artifacts["png"]).stat().st_size > 10_000
    layout = json.loads(Path(r.artifacts["layout"]).read_text())
    assert layout["circuit"] == "OTA_5T" and layout["options"]["common_centroid"] == ["M1"]
    assert {c["name"] for c in layout["cells"]} == {"M1+M2", "M3", "M4", "M5", "M6"}


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValidationError, match="circuit"):
        AnalogPlaceArgs(circuit="OTA_9T")
    with pytest.raises(ValidationError, match="area_weight"):
        AnalogPlaceArgs(area_weight=-1)
    with pytest.raises(InputError, match="net_weights: 'VS'"):
        run_analog_place(AnalogPlaceArgs(circuit="OTA_5T", net_weights={"VS": 1.0}))
