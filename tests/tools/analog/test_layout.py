"""Device footprints and placement cells (mirrored pairs, self-symmetric devices, common-centroid blocks)."""

from __future__ import annotations

import math

import pytest

from tools.analog.circuits import Device, load_circuit
from tools.analog.layout import active_size, build_cells, pin_offset
from tools.analog.tech import GF180
from tools.common import InputError


def test_mos_stripes_fold_into_the_squarest_block() -> None:
    dev = Device("M9", "pmos", ("a", "b", "c", "d"), w_um=86.4, l_um=0.5, fingers=20)
    w, h = active_size(dev, GF180)
    pitch = 0.5 + GF180.sd_length_um
    # 20 stripes of 4.32 µm: one row would be 28.9 x 4.3 µm, two rows 14.9 x 9.5; three rows of up to seven
    # (10.7 x 14.8) are the squarest
    assert w == pytest.approx(7 * pitch + GF180.sd_length_um)
    assert h == pytest.approx(3 * 4.32 + 2 * GF180.sd_length_um)


def test_resistor_and_capacitor_footprints() -> None:
    res = Device("R8", "res", ("a", "b"), w_um=0.4, l_um=7.86, fingers=10, value=196_500.0)
    cap = Device("C0", "cap", ("a", "b"), value=200e-15)
    assert active_size(res, GF180) == (10 * GF180.res_strip_pitch_um, 7.86)
    side = math.sqrt(200e-15 / GF180.cap_density_f_per_um2)  # 10 µm for 200 fF at 2 fF/µm²
    assert active_size(cap, GF180) == pytest.approx((side, side)) and side == pytest.approx(10.0)


def test_mirrored_pins_flip_x_only() -> None:
    assert pin_offset("g", 10.0, 4.0, mirrored=False) == (-3.0, 0.0)
    assert pin_offset("g", 10.0, 4.0, mirrored=True) == (3.0, 0.0)
    assert pin_offset("d", 10.0, 4.0, mirrored=True) == (0.0, 1.2)


def test_cells_follow_the_symmetry_constraints() -> None:
    c = load_circuit("OTA_5T")
    cells = build_cells(c, GF180)
    roles = {cell.name: cell.role for cell in cells}
    assert roles == {"M1": "left", "M2": "right", "M3": "left", "M4": "right", "M5": "self", "M6": "free"}
    left = next(cell for cell in cells if cell.name == "M1")
    assert cells[left.partner].name == "M2"
    assert {cell.role for cell in build_cells(c, GF180, symmetric=False)} == {"free"}


def test_common_centroid_block_shares_one_centroid() -> None:
    c = load_circuit("OTA_5T")
    cells = build_cells(c, GF180, common_centroid=("M2",))
    block = next(cell for cell in cells if cell.devices == ("M1", "M2"))
    assert block.role == "self" and len(cells) == 5
    for dev in block.devices:
        parts = block.parts[dev]
        assert len(parts) == 2
        assert sum(r.cx for r in parts) == pytest.approx(0.0) and sum(r.cy for r in parts) == pytest.approx(0.0)
    a, b = block.parts["M1"][0], block.parts["M2"][0]
    assert (a.cx, a.cy) == (-b.cx, b.cy)  # A top-left, B top-right: ABBA


def test_common_centroid_rejects_unpaired_or_asymmetric_requests() -> None:
    c = load_circuit("OTA_5T")
    with pytest.raises(InputError, match="common_centroid: 'M6'"):
        build_cells(c, GF180, common_centroid=("M6",))
    with pytest.raises(InputError, match="symmetric is False"):
        build_cells(c, GF180, symmetric=False, common_centroid=("M1",))
