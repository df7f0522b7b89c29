"""ngspice: netlist writing, MAGICAL's measurements on real simulations, non-convergence and a missing binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.analog.circuits import load_circuit
from tools.analog.models import gf180_library, user_library
from tools.analog.spice import (
    ACM_FLOOR_DB,
    NgspiceNotFoundError,
    Parasitics,
    SimulationError,
    find_ngspice,
    parse_measurements,
    simulate,
    write_netlist,
)


def test_measurement_lines_are_parsed() -> None:
    out = "adm_db              =  4.7e+01 at=  1.0e+00\nvoff = -2.1e-03\nisup = 5.9e-05\nNote: x = y\n"
    assert parse_measurements(out) == {"adm_db": 47.0, "voff": -2.1e-3, "isup": 5.9e-5}


def test_threshold_shift_is_a_gate_source_with_the_device_sign(tmp_path: Path, analog_data: None) -> None:
    c = load_circuit("OTA_5T")
    para = Parasitics(pin_nodes={("M1", "s"): "TAIL__t1"}, resistors=(("TAIL__t1", "TAIL", 9.0),), dvth={"M1": 1e-3, "M3": 2e-3})
    text = write_netlist(c, gf180_library(), tmp_path / "tb.cir", para).read_text()
    assert "VTM1 INP INP__vt_M1 1.000000e-03" in text  # NMOS: V(g) - V(g_int) = +dVth
    assert "VTM3 X X__vt_M3 -2.000000e-03" in text  # PMOS: the gate moves the other way
    assert "MM1 X INP__vt_M1 TAIL__t1 GND nmos_3p3 w=5u l=1u m=2" in text  # fingers as parallel units
    assert "RW0 TAIL__t1 TAIL 9" in text


def test_five_transistor_ota_schematic(tmp_path: Path, ngspice: str) -> None:
    out = simulate(load_circuit("OTA_5T"), gf180_library(), tmp_path)
    p = out.performance
    assert out.converged and out.message == "ok"
    assert 45 < p.adm_db < 51  # g_m (r_o2 || r_o4) of the 10/1 µm pair at 10 uA each
    assert 20e6 < p.gbw_hz < 50e6 and 75 < p.pm_deg < 90  # one dominant pole at the 1 pF output
    assert 1e-3 < p.offset_v < 4e-3  # systematic: the mirror's V_DS differ in unity-gain feedback
    assert p.cmrr_db == pytest.approx(p.adm_db - (p.acm_db - 6.0))
    assert 50e-6 < p.supply_a < 70e-6  # 20 uA bias + 2 x 20 uA tail
    assert out.seconds < 5.0


def test_ota_xt_magical_schematic_is_symmetric(tmp_path: Path, ngspice: str) -> None:
    p = simulate(load_circuit("OTA_XT_MAGICAL"), gf180_library(), tmp_path).performance
    assert abs(p.offset_v) < 1e-9  # perfectly symmetric: no CM-to-DM conversion
    assert p.acm_db < ACM_FLOOR_DB and p.cmrr_ideal  # numerical residue, reported as ideal with its bound
    assert p.cmrr_db == pytest.approx(p.adm_db - (ACM_FLOOR_DB - 6.0))
    assert 65 < p.adm_db < 78 and 100e6 < p.gbw_hz < 400e6 and 35 < p.pm_deg < 65


def test_a_shifted_input_transistor_gives_its_shift_as_offset(tmp_path: Path, ngspice: str) -> None:
    c = load_circuit("OTA_XT_MAGICAL")
    p = simulate(c, gf180_library(), tmp_path, Parasitics(dvth={"M40": 2e-3})).performance
    assert p.offset_v == pytest.approx(-2e-3, rel=0.05)  # M40 is the VIP side: a higher Vth looks like -Vos
    assert 90 < p.cmrr_db < 130 and not p.cmrr_ideal


def test_non_convergence_is_reported_not_a_number(tmp_path: Path, ngspice: str) -> None:
    crippled = tmp_path / "crippled.lib"  # no Newton, no gmin or source stepping: only the transient fallback
    crippled.write_text(".options noopiter gminsteps=0 srcsteps=0\n" + gf180_library().path.read_text())
    out = simulate(load_circuit("OTA_5T"), user_library(crippled, "nmos_3p3", "pmos_3p3"), tmp_path / "run")
    assert not out.converged and "operating point" in out.message
    assert out.performance.cmrr_db is None and out.performance.offset_v is None


def test_missing_ngspice_says_how_to_install_it() -> None:
    with pytest.raises(NgspiceNotFoundError, match="apt-get install ngspice"):
        find_ngspice("/nonexistent/ngspice")


def test_a_broken_netlist_is_an_error_not_a_non_convergence(tmp_path: Path, ngspice: str) -> None:
    cards = tmp_path / "broken.lib"
    cards.write_text(".model nmos_3p3 nmos level=54\n.model pmos_3p3 pmos level=54\nXbad a b nosuchsubckt\n")
    with pytest.raises(SimulationError, match="unknown subckt"):
        simulate(load_circuit("OTA_5T"), user_library(cards, "nmos_3p3", "pmos_3p3"), tmp_path / "run")
