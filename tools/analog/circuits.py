"""The circuits the analog loop knows: MAGICAL's OTA_XT_MAGICAL (transcribed for gf180mcu 3.3 V) and a 5-transistor OTA.

A ``Circuit`` is the schematic plus what layout and testbench need: devices with sizes, the symmetric device
pairs (MAGICAL's ``.sym`` constraint file), the critical nets whose placement weights are the knobs, and the
ports the testbench drives. OTA_XT_MAGICAL is read from the BSD-licensed MAGICAL-CIRCUITS Spectre netlist in
the shared data and re-sized: the 40 nm design (all gates at L = 120 nm) is mapped onto the gf180mcu 3.3 V
devices with L = 0.5 µm and widths x3, which bias it at VDD = 3.3 V, VCM = 1.2 V, 15 µA (measured with
ngspice: about 71 dB open-loop gain, 66 deg phase margin into 1 pF; the 1.2 V original reports 54 dB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from tools.analog.tech import GF180, Technology
from tools.common import InputError, shared_data_dir

__all__ = (
    "Device",
    "Knob",
    "Ports",
    "Circuit",
    "CIRCUIT_NAMES",
    "CIRCUIT_KNOBS",
    "load_circuit",
    "parse_spectre_subckt",
    "parse_sym",
    "si_value",
)

DeviceKind = Literal["nmos", "pmos", "res", "cap"]


@dataclass(frozen=True)
class Device:
    """One schematic device.

    Attributes:
        name: instance name without the SPICE letter prefix ambiguity, e.g. ``M40``, ``R8``, ``C0``.
        kind: ``nmos``/``pmos`` (4 terminals d, g, s, b) or ``res``/``cap`` (2 terminals).
        nets: terminal nets in that order.
        w_um: MOS total width of one multiplier unit (all fingers); resistor strip width. In µm.
        l_um: MOS gate length; resistor strip length. In µm.
        fingers: MOS gate fingers; resistor strips in series.
        mult: parallel copies (Spectre ``multi``).
        value: resistance in Ω or capacitance in F (0 for MOS).
    """

    name: str
    kind: DeviceKind
    nets: tuple[str, ...]
    w_um: float = 0.0
    l_um: float = 0.0
    fingers: int = 1
    mult: int = 1
    value: float = 0.0

    @property
    def terminals(self) -> tuple[str, ...]:
        return ("d", "g", "s", "b") if self.kind in ("nmos", "pmos") else ("p", "n")


@dataclass(frozen=True)
class Knob:
    """One layout knob: the placement weight shared by ``nets`` (a symmetric pair shares one weight)."""

    name: str
    nets: tuple[str, ...]

    @property
    def label(self) -> str:
        """Human/LLM-facing name, e.g. ``weight of net VO1M/VO1P``."""
        return f"weight of net {'/'.join(self.nets)}"


@dataclass(frozen=True)
class Ports:
    """Which nets the testbench drives. ``vom`` is None for a single-ended output."""

    vdd: str
    gnd: str
    vip: str
    vim: str
    vop: str
    vom: str | None
    vref: str | None
    """Net held at the common-mode voltage (MAGICAL's VCM pin), if the circuit has one."""
    ibias: str
    """Net fed by the bias current from VDD."""


@dataclass(frozen=True)
class Circuit:
    """A schematic with its layout constraints, knobs and operating conditions."""

    name: str
    description: str
    devices: tuple[Device, ...]
    ports: Ports
    vdd_v: float
    vcm_v: float
    ibias_a: float
    load_f: float
    sym_pairs: tuple[tuple[str, str], ...]
    self_sym: tuple[str, ...]
    knobs: tuple[Knob, ...]

    @property
    def supply_nets(self) -> tuple[str, str]:
        return (self.ports.vdd, self.ports.gnd)

    def device(self, name: str) -> Device:
        for dev in self.devices:
            if dev.name == name:
                return dev
        raise InputError("device", name, [d.name for d in self.devices])

    def nets(self) -> tuple[str, ...]:
        """Signal nets (no supplies), in first-seen order."""
        seen: dict[str, None] = {}
        for dev in self.devices:
            for net in dev.nets:
                if net not in self.supply_nets:
                    seen.setdefault(net, None)
        return tuple(seen)


_SI = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "meg": 1e6, "g": 1e9, "t": 1e12}
_NUMBER = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)(meg|[fpnumkgt])?$", re.I)


def si_value(text: str) -> float:
    """A SPICE/Spectre number with an optional scale suffix: ``40.5u`` -> 4.05e-05, ``1meg`` -> 1e6."""
    found = _NUMBER.match(text.strip())
    if not found:
        raise InputError("value", text, "a number with an optional f/p/n/u/m/k/meg/g/t suffix")
    return float(found[1]) * _SI.get((found[2] or "").lower(), 1.0)


@dataclass(frozen=True)
class SpectreElement:
    name: str
    nets: tuple[str, ...]
    model: str
    params: dict[str, str]


def parse_spectre_subckt(text: str, name: str) -> tuple[tuple[str, ...], list[SpectreElement]]:
    """Ports and elements of subcircuit ``name`` in a Spectre netlist (``NAME ( nets ) model k=v ...``)."""
    lines = text.replace("\\\n", " ").splitlines()
    ports: tuple[str, ...] | None = None
    elements: list[SpectreElement] = []
    for raw in lines:
        line = raw.split("//")[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] == "subckt" and len(words) > 1 and words[1] == name:
            ports = tuple(words[2:])
            continue
        if ports is None:
            continue
        if words[0] == "ends":
            return ports, elements
        found = re.match(r"^(\S+)\s*\(([^)]*)\)\s*(\S+)\s*(.*)$", line)
        if found:
            params = dict(re.findall(r"(\w+)\s*=\s*(\S+)", found[4]))
            elements.append(SpectreElement(found[1], tuple(found[2].split()), found[3], params))
    raise InputError("subckt", name, "a subckt defined in the netlist (missing 'subckt' or 'ends')")


def parse_sym(text: str, prefix: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """MAGICAL ``.sym`` file: one pair per line, self-symmetric devices alone; names lose ``prefix`` + ``x``."""

    def short(word: str) -> str:
        word = word[len(prefix) :] if word.startswith(prefix) else word
        return word.lstrip("_")[1:].upper() if word.lstrip("_").lower().startswith("x") else word.upper()

    pairs: list[tuple[str, str]] = []
    singles: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2:
            pairs.append((short(words[0]), short(words[1])))
        elif len(words) == 1:
            singles.append(short(words[0]))
    return tuple(pairs), tuple(singles)


_XT_NAME = "OTA_XT_MAGICAL"
_XT_LENGTH_UM = 0.5  # every 120 nm gate of the 40 nm design becomes 0.5 µm (0.28 µm is the 3.3 V minimum)
_XT_WIDTH_SCALE = 3.0
# LLANA's critical nets (README of shared/data/analog): symmetric pairs share one weight. VCMON2 belongs to a
# later variant of the netlist (M29's gate); here M29's gate is VCMON through the iprobe, so it has no knob.
_XT_KNOBS = (
    ("CASP", "CASN"),
    ("VO1M", "VO1P"),
    ("CAS2P", "CAS2N"),
    ("VOM", "VOP"),
    ("VCMOP", "VCMON"),
    ("TAIL1",),
    ("VS",),
    ("VS2",),
    ("VCM",),
    ("NBIAS_TAIL",),
    ("PCAS",),
    ("NCAS",),
    ("net0108",),
)


def _xt_circuit(tech: Technology) -> Circuit:
    folder = shared_data_dir("analog")
    netlist = folder / "magical-circuits" / "benchmark_circuits" / "OTA" / f"{_XT_NAME}.sp"
    sym_file = folder / "magical" / "examples" / "adc1" / f"{_XT_NAME}.sym"
    ports, elements = parse_spectre_subckt(netlist.read_text(), _XT_NAME)
    alias = {e.nets[0]: e.nets[1] for e in elements if e.model == "iprobe"}  # a probe is a wire
    devices = _transcribe(elements, alias, tech)
    pairs, singles = parse_sym(sym_file.read_text(), _XT_NAME)
    if set(ports) != {"GND", "NCAS", "VCM", "VDD", "VIM", "VIP", "VOM", "VOP"}:
        raise InputError(f"{netlist.name} ports", ports, "GND NCAS VCM VDD VIM VIP VOM VOP (MAGICAL's pin order)")
    return Circuit(
        name=_XT_NAME,
        description=(
            "OTA_XT_MAGICAL: inverter-based feed-forward OTA with resistive common-mode feedback (MAGICAL "
            "benchmark). NMOS input pair M40/M43 with tail M30 and cascodes M49/M50 feeds PMOS cascode loads "
            "M56/M57 over M61/M8 (first stage, outputs VO1M/VO1P, self-biased CM through R8/R2); the output "
            "stage is PMOS M9/M67 driven by VO1M/VO1P plus feed-forward NMOS M7/M10 on tail M29 (node VS); "
            "R1/R10 sense the output CM at net0108, compared with VCM by M53/M12 over tail M41 (node VS2) and "
            "mirror M66/M64, driving M29's gate VCMON. Bias: 15 uA into NCAS through M51/M47/M38 (NBIAS_TAIL) "
            "and M5/M31/M58/M63 (PCAS). Differential output VOP/VOM."
        ),
        devices=devices,
        ports=Ports(vdd="VDD", gnd="GND", vip="VIP", vim="VIM", vop="VOP", vom="VOM", vref="VCM", ibias="NCAS"),
        vdd_v=3.3,
        vcm_v=1.2,
        ibias_a=15e-6,
        load_f=1e-12,
        sym_pairs=pairs,
        self_sym=singles,
        knobs=tuple(Knob("/".join(nets), nets) for nets in _XT_KNOBS),
    )


def _transcribe(elements: list[SpectreElement], alias: dict[str, str], tech: Technology) -> tuple[Device, ...]:
    """MOS to gf180 sizes, resistor segments ``R8_k__dmy0`` lumped into one device, caps to the default value."""
    devices: list[Device] = []
    segments: dict[str, list[SpectreElement]] = {}
    for e in elements:
        nets = tuple(alias.get(n, n) for n in e.nets)
        if e.model.startswith(("nfet", "pfet")):
            devices.append(
                Device(
                    name=e.name.upper(),
                    kind="nmos" if e.model.startswith("nfet") else "pmos",
                    nets=nets,
                    w_um=round(si_value(e.params["w"]) * 1e6 * _XT_WIDTH_SCALE, 4),
                    l_um=_XT_LENGTH_UM,
                    fingers=int(e.params.get("nf", "1")),
                    mult=int(e.params.get("multi", "1")),
                )
            )
        elif e.model == "res":
            base = re.sub(r"_\d+__dmy\d*$", "", e.name).upper()
            segments.setdefault(base, []).append(SpectreElement(e.name, nets, e.model, e.params))
        elif e.model == "cap":
            devices.append(Device(name=e.name.upper(), kind="cap", nets=nets[:2], value=tech.cap_default_f))
    for base, segs in segments.items():
        ends = _chain_ends(segs)
        lr = round(si_value(segs[0].params["lr"]) * 1e6, 6)
        wr = round(si_value(segs[0].params["wr"]) * 1e6, 6)
        devices.append(
            Device(
                name=base,
                kind="res",
                nets=ends,
                w_um=wr,
                l_um=lr,
                fingers=len(segs),
                value=round(len(segs) * tech.res_sheet_ohm * lr / wr, 6),
            )
        )
    return tuple(devices)


def _chain_ends(segments: list[SpectreElement]) -> tuple[str, str]:
    """The two nets of a series chain of resistor segments that appear once (internal nodes appear twice)."""
    counts: dict[str, int] = {}
    for seg in segments:
        for net in seg.nets[:2]:
            counts[net] = counts.get(net, 0) + 1
    ends = [n for seg in segments for n in seg.nets[:2] if counts[n] == 1]
    if len(ends) != 2:
        raise InputError("resistor", segments[0].name, "a series chain of segments with two end nets")
    return ends[0], ends[1]


_5T_KNOBS = (("TAIL",), ("X",), ("OUT",), ("NB",))


def _ota5t_circuit(tech: Technology) -> Circuit:
    """A textbook 5-transistor OTA (NMOS pair, PMOS mirror, NMOS tail) for quick tests; single-ended output."""
    del tech  # no passives to size
    m = Device
    return Circuit(
        name="OTA_5T",
        description=(
            "5-transistor OTA: NMOS input pair M1/M2 (gates INP/INN) on tail M5 (node TAIL), PMOS current "
            "mirror M3/M4 (diode side X), single-ended output OUT on M2/M4; bias 20 uA into diode M6 (NB)."
        ),
        devices=(
            m("M1", "nmos", ("X", "INP", "TAIL", "GND"), w_um=10.0, l_um=1.0, fingers=2),
            m("M2", "nmos", ("OUT", "INN", "TAIL", "GND"), w_um=10.0, l_um=1.0, fingers=2),
            m("M3", "pmos", ("X", "X", "VDD", "VDD"), w_um=10.0, l_um=1.0, fingers=2),
            m("M4", "pmos", ("OUT", "X", "VDD", "VDD"), w_um=10.0, l_um=1.0, fingers=2),
            m("M5", "nmos", ("TAIL", "NB", "GND", "GND"), w_um=8.0, l_um=1.0, fingers=2),
            m("M6", "nmos", ("NB", "NB", "GND", "GND"), w_um=4.0, l_um=1.0, fingers=1),
        ),
        ports=Ports(vdd="VDD", gnd="GND", vip="INP", vim="INN", vop="OUT", vom=None, vref=None, ibias="NB"),
        vdd_v=3.3,
        vcm_v=1.65,
        ibias_a=20e-6,
        load_f=1e-12,
        sym_pairs=(("M1", "M2"), ("M3", "M4")),
        self_sym=("M5",),
        knobs=tuple(Knob("/".join(nets), nets) for nets in _5T_KNOBS),
    )


_BUILDERS = {_XT_NAME: _xt_circuit, "OTA_5T": _ota5t_circuit}
CIRCUIT_NAMES: tuple[str, ...] = tuple(_BUILDERS)
CIRCUIT_KNOBS: dict[str, tuple[tuple[str, ...], ...]] = {_XT_NAME: _XT_KNOBS, "OTA_5T": _5T_KNOBS}
"""The nets of each circuit's knobs, known without loading the circuit (its netlist may be missing)."""


@lru_cache(maxsize=None)
def load_circuit(name: str, tech: Technology = GF180) -> Circuit:
    """The circuit called ``name`` (case-insensitive); the error lists the known ones.

    Raises:
        InputError: unknown name.
        DataNotFoundError: OTA_XT_MAGICAL needs ``analog/`` in the shared data.
    """
    key = {n.lower(): n for n in _BUILDERS}.get(name.strip().lower().replace("-", "_"))
    if key is None:
        raise InputError("circuit", name, CIRCUIT_NAMES)
    return _BUILDERS[key](tech)
