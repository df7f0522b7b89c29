"""Tool: simulate an OTA with ngspice, as a schematic or after placement (wire RC, gradient and mismatch)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from tools.analog.circuits import Circuit, load_circuit
from tools.analog.common_args import LayoutArgs, SimulatorArgs, layout_options, library_of
from tools.analog.extraction import extract
from tools.analog.layout import Cell, build_cells
from tools.analog.place_tool import pair_mismatch_mv, write_layout_artifacts
from tools.analog.placer import Placement, fixed_placement, place
from tools.analog.problem import LayoutOptions, llana_score, net_weights
from tools.analog.routing import route
from tools.analog.spice import Performance, ngspice_version, simulate
from tools.analog.tech import GF180
from tools.common import InputError, ProgressFn, ToolResult, package_versions, report, run_dir

__all__ = ("AnalogSimulateArgs", "AnalogSimulateResult", "run_analog_simulate")


class AnalogSimulateArgs(LayoutArgs, SimulatorArgs):
    """Arguments of ``run_analog_simulate``."""

    layout: Literal["post_layout", "schematic"] = Field(
        default="post_layout",
        description="post_layout: place, route and extract first; schematic: the ideal netlist (zero offset).",
    )
    net_weights: dict[str, float] = Field(
        default_factory=dict, description="Placement weight per knob (e.g. 'VO1M/VO1P', 'VS'); unlisted nets weigh 1."
    )
    placement_file: str | None = Field(
        default=None,
        description="layout.json written by the place tool: simulate exactly that placement (its layout options "
        "come from the file).",
    )
    out_dir: str | None = Field(default=None, description="Folder for the testbench netlist, the ngspice log and the layout.")


class AnalogSimulateResult(ToolResult):
    circuit: str
    layout: str
    converged: bool = Field(description="False when ngspice found no operating point; the metrics are then None.")
    message: str
    performance: Performance
    cmrr_score: float | None = Field(description="LLANA score of CMRR: -(CMRR - 80 dB) / 80 dB (lower is better).")
    offset_score: float | None = Field(description="LLANA score of |offset|: (|offset| - 1 mV) / 1 mV (lower is better).")
    area_um2: float | None = Field(default=None, description="Layout bounding box (post-layout only). In µm².")
    wire_resistors: int = 0
    pair_dvth_mv: dict[str, float] = Field(default_factory=dict, description="Symmetric-pair threshold mismatch. In mV.")
    sim_seconds: float = Field(description="ngspice wall time. In seconds.")


def run_analog_simulate(args: AnalogSimulateArgs, progress: ProgressFn | None = None) -> AnalogSimulateResult:
    """Run MAGICAL's testbench (Adm, Acm at 10 kHz, CMRR, offset, GBW, PM) on the schematic or the layout."""
    start = time.perf_counter()
    circuit = load_circuit(args.circuit)
    lib = library_of(args)
    folder = run_dir(args.out_dir, "analog-simulate")
    parasitics, artifacts, area, seed = None, {}, None, None
    if args.layout == "post_layout":
        report(progress, f"placing {circuit.name}", 0.0)
        weights = net_weights(circuit, args.net_weights)
        if args.placement_file:
            options, x, y = _read_layout_file(args.placement_file, circuit)
            cells = build_cells(circuit, GF180, options.symmetric, options.common_centroid)
            placement = _fixed(circuit, cells, x, y, weights, args.placement_file)
        else:
            options = layout_options(args)
            cells = build_cells(circuit, GF180, options.symmetric, options.common_centroid)
            placement = place(circuit, cells, weights, area_weight=options.area_weight, seed=options.placement_seed)
        routes = route(placement)
        parasitics = extract(circuit, placement, routes, GF180)
        area, seed = round(placement.area_um2, 2), options.placement_seed
        meta = {"circuit": circuit.name, "options": _options_dict(options)}
        artifacts = write_layout_artifacts(circuit, placement, routes, folder, GF180, f"{circuit.name}: simulated layout", meta)
    elif args.net_weights or args.placement_file:
        raise InputError("layout", "schematic", "post_layout when net_weights or placement_file are given")
    report(progress, "running ngspice", 0.5)
    sim = simulate(circuit, lib, folder, parasitics, ngspice=args.ngspice)
    artifacts |= {"netlist": str(sim.netlist), "log": str(folder / "ngspice.log")}
    perf = sim.performance
    report(progress, "done", 1.0)
    return AnalogSimulateResult(
        circuit=circuit.name,
        layout=args.layout,
        converged=sim.converged,
        message=sim.message,
        performance=perf,
        cmrr_score=llana_score(perf, "cmrr") if sim.converged else None,
        offset_score=llana_score(perf, "offset") if sim.converged else None,
        area_um2=area,
        wire_resistors=len(parasitics.resistors) if parasitics else 0,
        pair_dvth_mv=pair_mismatch_mv(circuit, parasitics) if parasitics else {},
        sim_seconds=round(sim.seconds, 4),
        seed=seed,
        seconds=round(time.perf_counter() - start, 4),
        versions=package_versions("numpy", "gdstk") | {"ngspice": ngspice_version(args.ngspice)},
        artifacts=artifacts,
    )


def _options_dict(options: LayoutOptions) -> dict:
    return {**asdict(options), "common_centroid": list(options.common_centroid)}


def _read_layout_file(path: str, circuit: Circuit) -> tuple[LayoutOptions, dict[str, float], dict[str, float]]:
    """Layout options and cell centres stored in a place tool's layout.json, checked against the circuit."""
    file = Path(path)
    if not file.is_file():
        raise InputError("placement_file", path, "a layout.json written by the analog place tool")
    data = json.loads(file.read_text())
    if data.get("circuit") != circuit.name:
        raise InputError("placement_file", path, f"a layout of {circuit.name} (this one is of {data.get('circuit')})")
    stored = data.get("options", {})
    options = LayoutOptions(**{k: stored[k] for k in ("placement_seed", "area_weight", "symmetric") if k in stored},
                            common_centroid=tuple(stored.get("common_centroid", ())))
    cells = data.get("cells", [])
    return options, {c["name"]: c["x"] for c in cells}, {c["name"]: c["y"] for c in cells}


def _fixed(
    circuit: Circuit, cells: list[Cell], x: dict[str, float], y: dict[str, float], weights: dict[str, float], path: str
) -> Placement:
    missing = [c.name for c in cells if c.name not in x]
    if missing:
        raise InputError("placement_file", path, f"positions for every cell (missing {', '.join(missing)})")
    xs = np.array([x[c.name] for c in cells], dtype=float)
    ys = np.array([y[c.name] for c in cells], dtype=float)
    return fixed_placement(circuit, cells, xs, ys, weights)
