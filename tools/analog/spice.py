"""ngspice in batch mode: the netlist of a (post-layout) circuit, MAGICAL's OTA testbench, and parsed measurements.

Testbench (one DUT, one netlist, three analyses; measurement definitions of MAGICAL-CIRCUITS' OCEAN script as
summarised in shared/data/analog/README.md):

- DC feedback through 1 GH inductors from each output to the opposite input and AC drive through 1 F
  capacitors: at DC the OTA sits in unity-gain feedback, so the operating point gives the input-referred
  offset (``v(vop) - v(vom)``, or ``v(out) - VCM`` single-ended); above 1 Hz the loop is open
  (feedback factor 1/(w^2 LC) < 3e-11), so the AC runs measure open-loop gains;
- ``ac`` with a differential input of 1: Adm = max |vd| in dB, the unity-gain frequency (GBW) and the phase
  margin 180 deg + phase(Adm) at that frequency (the loop gain of the unity-gain follower);
- ``ac`` with a common-mode input of 1: Acm = |vd| at 10 kHz in dB (common mode in, differential out);
- CMRR = Adm - (Acm - 6 dB), MAGICAL's formula. A perfectly symmetric netlist (the schematic of a fully
  differential OTA) has no common-mode-to-differential conversion: its Acm is the solver's rounding residue
  (-259 dB measured for OTA_XT_MAGICAL, which would print as a 337 dB CMRR). Below ``ACM_FLOOR_DB`` (-200 dB,
  1e-10 V/V; post-layout Acm sits at -50 to -25 dB here) the CMRR is reported as *ideal*: ``cmrr_ideal`` is set
  and ``cmrr_db`` holds the lower bound Adm - (ACM_FLOOR_DB - 6 dB), not a measurement.

The Debian build of ngspice evaluates BSIM4 with OpenMP; with the default spin-waiting on a busy 2-core
machine, one simulation of OTA_XT_MAGICAL burnt 3-25 s of CPU instead of 0.1-0.2 s (measured here), so the
subprocess runs with one passive OpenMP thread.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from tools.analog.circuits import Circuit, Device
from tools.analog.models import ModelLibrary
from tools.common import ChipCrewError

__all__ = (
    "ACM_FLOOR_DB",
    "Parasitics",
    "Performance",
    "SimOutcome",
    "NgspiceNotFoundError",
    "SimulationError",
    "find_ngspice",
    "ngspice_version",
    "write_netlist",
    "parse_measurements",
    "simulate",
    "CM_FREQ_HZ",
)

CM_FREQ_HZ = 10e3
_ENV = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}
_FAILURE_HINTS = (
    "iteration limit reached",
    "timestep too small",
    "simulation(s) aborted",
    "no convergence",
    "gmin stepping failed",
    "source stepping failed",
)


class NgspiceNotFoundError(ChipCrewError, FileNotFoundError):
    """The ngspice executable is missing; the message says how to install it."""


class SimulationError(ChipCrewError, RuntimeError):
    """ngspice could not be run at all (timeout, netlist error); non-convergence is a result, not this error."""


@dataclass(frozen=True)
class Parasitics:
    """What the layout adds to the schematic: split nets, wire RC and threshold shifts.

    Attributes:
        pin_nodes: ``(device, terminal) -> node``; a terminal not listed keeps its schematic net.
        resistors: ``(node_a, node_b, ohms)`` wire segments and via stacks.
        capacitors: ``(node, farads)`` wire capacitance to ground.
        dvth: ``device -> volts``; positive raises |Vth| (NMOS and PMOS alike).
    """

    pin_nodes: dict[tuple[str, str], str] = field(default_factory=dict)
    resistors: tuple[tuple[str, str, float], ...] = ()
    capacitors: tuple[tuple[str, float], ...] = ()
    dvth: dict[str, float] = field(default_factory=dict)


class Performance(BaseModel):
    """Measured OTA performance (None where the measurement itself failed, e.g. no unity-gain crossing)."""

    adm_db: float | None = Field(default=None, description="Open-loop differential gain, max over frequency. In dB.")
    acm_db: float | None = Field(default=None, description="Common-mode to output gain at 10 kHz. In dB.")
    cmrr_db: float | None = Field(default=None, description="Adm - (Acm - 6 dB), MAGICAL's definition; a lower bound "
                                  "when cmrr_ideal. In dB.")
    cmrr_ideal: bool = Field(default=False, description="Acm below the numerical floor ACM_FLOOR_DB (a symmetric "
                             "netlist): CMRR is ideal and cmrr_db is only the bound Adm - (floor - 6 dB).")
    offset_v: float | None = Field(default=None, description="Input-referred offset in unity-gain feedback. In V.")
    gbw_hz: float | None = Field(default=None, description="Unity-gain frequency of the open-loop gain. In Hz.")
    pm_deg: float | None = Field(default=None, description="Phase margin at the unity-gain frequency. In degrees.")
    supply_a: float | None = Field(default=None, description="Current drawn from VDD (bias source included). In A.")


ACM_FLOOR_DB = -200.0
"""Common-mode gain below which the measurement is rounding residue, not a property of the circuit (see top)."""


@dataclass(frozen=True)
class SimOutcome:
    converged: bool
    performance: Performance
    message: str
    seconds: float
    netlist: Path


def find_ngspice(path: str | None = None) -> str:
    """The ngspice executable (``path`` or the one on PATH).

    Raises:
        NgspiceNotFoundError: not installed; the message says how to install it.
    """
    exe = shutil.which(path or "ngspice")
    if exe is None:
        raise NgspiceNotFoundError(
            f"ngspice not found ({path or 'not on PATH'}); install it with 'apt-get install ngspice' "
            "(Debian/Ubuntu; scripts/setup.sh does this) or 'brew install ngspice', or pass its path"
        )
    return exe


@lru_cache(maxsize=8)
def ngspice_version(path: str | None = None) -> str:
    """``ngspice --version``'s number, e.g. ``39``; ``unknown`` when it cannot be read."""
    try:
        out = subprocess.run([find_ngspice(path), "--version"], capture_output=True, text=True, timeout=10).stdout
    except (subprocess.SubprocessError, OSError):
        return "unknown"
    found = re.search(r"ngspice-(\S+)", out)
    return found[1] if found else "unknown"


def _device_lines(dev: Device, nodes: list[str], models: dict[str, tuple[str, str]], dvth: float) -> list[str]:
    """SPICE lines of one device. MOS fingers become parallel units (``m``) so binned models see W/finger.

    A threshold shift is a DC source in series with the gate (V(gate) - V(internal gate) = dVth for NMOS,
    the opposite sign for PMOS): exact for any model card, including subcircuit-wrapped ones.
    """
    if dev.kind == "res":
        return [f"{dev.name} {nodes[0]} {nodes[1]} {dev.value:.6g}"]
    if dev.kind == "cap":
        return [f"{dev.name} {nodes[0]} {nodes[1]} {dev.value:.6g}"]
    d, g, s, b = nodes
    lines = []
    if dvth:
        gate = f"{g}__vt_{dev.name}"
        sign = 1.0 if dev.kind == "nmos" else -1.0
        lines.append(f"VT{dev.name} {g} {gate} {sign * dvth:.6e}")
        g = gate
    prefix, model = models[dev.kind]
    width = dev.w_um / dev.fingers
    lines.append(f"{prefix}{dev.name} {d} {g} {s} {b} {model} w={width:.6g}u l={dev.l_um:.6g}u m={dev.fingers * dev.mult}")
    return lines


def _element_prefixes(lib: ModelLibrary) -> dict[str, tuple[str, str]]:
    """``kind -> (element letter, model)``: ``M`` for a ``.model`` card, ``X`` for a ``.subckt`` wrapper."""
    text = lib.path.read_text(encoding="latin-1").lower()
    out = {}
    for kind, name in (("nmos", lib.nmos), ("pmos", lib.pmos)):
        wrapped = re.search(rf"^\s*\.subckt\s+{re.escape(name.lower())}\s", text, re.M)
        out[kind] = ("X" if wrapped else "M", name)
    return out


def write_netlist(
    circuit: Circuit, lib: ModelLibrary, path: Path, parasitics: Parasitics | None = None
) -> Path:
    """Write the testbench netlist (DUT subcircuit + sources + ``.control`` measurements) to ``path``."""
    para = parasitics or Parasitics()
    p = circuit.ports
    ports = [p.vdd, p.gnd, p.vip, p.vim, p.vop] + ([p.vom] if p.vom else []) + ([p.vref] if p.vref else [])
    ports += [p.ibias] if p.ibias not in ports else []
    body = [f".subckt DUT {' '.join(ports)}"]
    models = _element_prefixes(lib)
    for dev in circuit.devices:
        nodes = [para.pin_nodes.get((dev.name, t), net) for t, net in zip(dev.terminals, dev.nets)]
        body += _device_lines(dev, nodes, models, para.dvth.get(dev.name, 0.0))
    # a zero-length segment (two pins at one point) still gets 1 mOhm: ngspice rejects 0-ohm resistors
    body += [f"RW{k} {a} {b} {max(ohms, 1e-3):.6g}" for k, (a, b, ohms) in enumerate(para.resistors)]
    body += [f"CW{k} {node} {p.gnd} {farads:.6g}" for k, (node, farads) in enumerate(para.capacitors)]
    body.append(".ends DUT")
    tb_nodes = {p.vdd: "vdd", p.gnd: "0", p.vip: "vip", p.vim: "vim", p.vop: "vop", p.ibias: "ibias"}
    if p.vom:
        tb_nodes[p.vom] = "vom"
    if p.vref:
        tb_nodes[p.vref] = "cm"
    bench = [
        f"VSUP vdd 0 {circuit.vdd_v}",
        f"VCM0 cm 0 {circuit.vcm_v}",
        f"IB vdd ibias {circuit.ibias_a:.6g}",
        "VCMAC cmn cm dc 0 ac 0",
        "VDP np cmn dc 0 ac 0.5",
        "VDN nn cmn dc 0 ac 0.5 180",
        "LFBM vop vim 1g",
        "CINM vim nn 1",
        f"CLP vop 0 {circuit.load_f:.6g}",
    ]
    if p.vom:
        bench += ["LFBP vom vip 1g", "CINP vip np 1", f"CLM vom 0 {circuit.load_f:.6g}"]
        vd, off = "v(vop)-v(vom)", "v(vop)-v(vom)"
    else:
        bench += ["VINP vip np 0"]
        vd, off = "v(vop)", "v(vop)-v(cm)"
    bench.append(f"XDUT {' '.join(tb_nodes[n] for n in ports)} DUT")
    control = [
        ".control",
        "set noaskquit",
        "set num_threads=1",
        "op",
        f"let voff = {off}",
        "let isup = -i(vsup)",
        "print voff isup",
        "ac dec 20 1 10g",
        f"let vd = {vd}",
        "meas ac adm_db max vdb(vd)",
        "meas ac ugf when vdb(vd)=0",
        "let ph = 180/pi*cph(vd)",
        "meas ac ph_ugf find ph at=ugf",
        "alter @vdp[acmag]=0",
        "alter @vdn[acmag]=0",
        "alter @vcmac[acmag]=1",
        f"ac lin 1 {CM_FREQ_HZ:g} {CM_FREQ_HZ:g}",
        f"let vc = {vd}",
        "let acm_db = vdb(vc)",
        "print acm_db",
        ".endc",
    ]
    text = "\n".join(
        [f"* {circuit.name} testbench (ChipCrew tools.analog)", f'.include "{lib.path}"', *body, *bench, *control, ".end", ""]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


_VALUE = re.compile(r"^\s*(\w+)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", re.M)


def parse_measurements(stdout: str) -> dict[str, float]:
    """``name = value`` lines printed by ``print`` and ``meas`` (the last one wins)."""
    return {m[1].lower(): float(m[2]) for m in _VALUE.finditer(stdout)}


def simulate(
    circuit: Circuit,
    lib: ModelLibrary,
    folder: Path,
    parasitics: Parasitics | None = None,
    ngspice: str | None = None,
    timeout_s: float = 60.0,
) -> SimOutcome:
    """Run the testbench once; non-convergence comes back as ``converged=False`` with ngspice's words.

    Raises:
        NgspiceNotFoundError: ngspice is not installed.
        SimulationError: it did not finish within ``timeout_s`` or could not parse the netlist.
    """
    exe = find_ngspice(ngspice)
    netlist = write_netlist(circuit, lib, folder / "testbench.cir", parasitics)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [exe, "-b", netlist.name],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, **_ENV},
        )
    except subprocess.TimeoutExpired as exc:
        raise SimulationError(f"ngspice did not finish within {timeout_s:g} s on {netlist}") from exc
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    (folder / "ngspice.log").write_text(log)
    values = parse_measurements(proc.stdout)
    if "transient op started" in log.lower():
        # ngspice's last resort integrates 10 µs of transient: far too short for the 1 GH feedback inductors,
        # so its "operating point" is not the DC solution; report it as what it is.
        return SimOutcome(False, Performance(), "operating point not found by Newton, gmin or source stepping "
                          "(ngspice fell back to a transient op, which cannot settle this testbench)", seconds, netlist)
    if "voff" not in values:
        if re.search(r"error on line|unknown (?:model|subckt)|could not find", log, re.I):
            raise SimulationError(f"ngspice rejected {netlist}: {_tail(log)}")
        return SimOutcome(False, Performance(), f"operating point did not converge: {_hints(log)}", seconds, netlist)
    return SimOutcome(True, _performance(values), "ok", seconds, netlist)


def _performance(values: dict[str, float]) -> Performance:
    adm, acm = values.get("adm_db"), values.get("acm_db")
    ph = values.get("ph_ugf")
    ideal = acm is not None and acm < ACM_FLOOR_DB
    return Performance(
        adm_db=adm,
        acm_db=acm,
        cmrr_db=adm - (max(acm, ACM_FLOOR_DB) - 6.0) if adm is not None and acm is not None else None,
        cmrr_ideal=ideal,
        offset_v=values.get("voff"),
        gbw_hz=values.get("ugf"),
        pm_deg=180.0 + ph if ph is not None and values.get("ugf") is not None else None,
        supply_a=values.get("isup"),
    )


def _hints(log: str) -> str:
    low = log.lower()
    found = [h for h in _FAILURE_HINTS if h in low]
    return "; ".join(found) if found else _tail(log)


def _tail(log: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    return " | ".join(lines[-n:])
