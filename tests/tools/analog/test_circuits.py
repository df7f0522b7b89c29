"""Circuit transcription: Spectre parsing, MAGICAL's symmetry file, gf180 sizing, and the 5-transistor OTA."""

from __future__ import annotations

import pytest

from tools.analog.circuits import CIRCUIT_KNOBS, load_circuit, parse_spectre_subckt, parse_sym, si_value
from tools.common import InputError

SPECTRE = """
// comment
subckt AMP GND OUT IN VDD
M1 ( OUT IN GND GND) nfet_lvt w=4u l=120.0n nf=2 multi=3
R5_1__dmy0 ( OUT R5_1__dmy0 GND) res lr=3.6u wr=400n
R5_2__dmy0 ( R5_1__dmy0 IN GND) res lr=3.6u \\
    wr=400n
ends AMP
"""


@pytest.mark.parametrize(
    "text,value", [("40.5u", 40.5e-6), ("120.0n", 120e-9), ("1meg", 1e6), ("70n", 70e-9), ("3", 3.0), ("2.5k", 2500.0)]
)
def test_si_value_reads_spice_suffixes(text: str, value: float) -> None:
    assert si_value(text) == pytest.approx(value)


def test_si_value_names_the_bad_text() -> None:
    with pytest.raises(InputError, match="'4x'"):
        si_value("4x")


def test_spectre_parser_reads_ports_elements_and_continuations() -> None:
    ports, elements = parse_spectre_subckt(SPECTRE, "AMP")
    assert ports == ("GND", "OUT", "IN", "VDD")
    assert [e.name for e in elements] == ["M1", "R5_1__dmy0", "R5_2__dmy0"]
    assert elements[0].params == {"w": "4u", "l": "120.0n", "nf": "2", "multi": "3"}
    assert elements[2].params["wr"] == "400n"


def test_missing_subckt_is_reported_by_name() -> None:
    with pytest.raises(InputError, match="subckt: 'NOPE'"):
        parse_spectre_subckt(SPECTRE, "NOPE")


def test_sym_file_pairs_and_self_symmetric_devices() -> None:
    pairs, singles = parse_sym("X_xm40 X_xm43\nX_xr8 X_xr2\nX_xm30\n\n", "X")
    assert pairs == (("M40", "M43"), ("R8", "R2")) and singles == ("M30",)


def test_ota_xt_magical_is_transcribed_for_gf180(analog_data: None) -> None:
    c = load_circuit("ota_xt_magical")
    kinds = [d.kind for d in c.devices]
    assert (kinds.count("nmos"), kinds.count("pmos"), kinds.count("res"), kinds.count("cap")) == (16, 10, 4, 6)
    m29 = c.device("M29")
    assert (m29.w_um, m29.l_um, m29.fingers) == (121.5, 0.5, 15)  # 40.5 µm x3, 120 nm -> 0.5 µm
    assert c.device("M30").mult == 5
    r8 = c.device("R8")  # ten 7.86 x 0.4 µm segments of 1 kOhm/sq poly, lumped
    assert (r8.fingers, r8.nets) == (10, ("VO1M", "net096")) and r8.value == pytest.approx(196_500.0)
    assert c.device("M29").nets[1] == "VCMON"  # the iprobe net019 -> VCMON is a wire
    assert ("M40", "M43") in c.sym_pairs and len(c.sym_pairs) == 13 and set(c.self_sym) == {"M29", "M30", "M41"}
    assert [k.name for k in c.knobs][:2] == ["CASP/CASN", "VO1M/VO1P"] and len(c.knobs) == 13
    assert tuple(k.nets for k in c.knobs) == CIRCUIT_KNOBS["OTA_XT_MAGICAL"]
    assert set(c.nets()) >= {n for k in c.knobs for n in k.nets}  # every knob net exists
    assert "VDD" not in c.nets() and "GND" not in c.nets()


def test_five_transistor_ota_needs_no_shared_data() -> None:
    c = load_circuit("ota_5t")
    assert len(c.devices) == 6 and c.ports.vom is None and c.sym_pairs == (("M1", "M2"), ("M3", "M4"))


def test_unknown_circuit_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="circuit: 'OTA_9T'.*OTA_XT_MAGICAL, OTA_5T"):
        load_circuit("OTA_9T")
