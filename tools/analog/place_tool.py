"""Tool: place an OTA with given net weights and report the layout (GDS, PNG, wirelength, area, pair mismatch)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field

from tools.analog.circuits import Circuit, load_circuit
from tools.analog.common_args import LayoutArgs, layout_options
from tools.analog.extraction import extract
from tools.analog.layout import build_cells
from tools.analog.placer import Placement, place
from tools.analog.problem import net_weights
from tools.analog.routing import NetRoute, route
from tools.analog.spice import Parasitics
from tools.analog.tech import GF180, Technology
from tools.common import ProgressFn, Timer, ToolResult, package_versions, report, run_dir

__all__ = ("AnalogPlaceArgs", "AnalogPlaceResult", "run_analog_place", "write_layout_artifacts", "pair_mismatch_mv")


class AnalogPlaceArgs(LayoutArgs):
    """Arguments of ``run_analog_place``."""

    net_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Placement weight per knob (a critical net or symmetric pair, e.g. 'VO1M/VO1P' or 'VS'); "
        "unlisted nets weigh 1.",
    )
    out_dir: str | None = Field(default=None, description="Folder for layout.gds, layout.png, layout.json.")


class AnalogPlaceResult(ToolResult):
    circuit: str
    devices: int
    cells: int
    hpwl_um: float = Field(description="Half-perimeter wirelength of all signal nets. In µm.")
    weighted_hpwl_um: float = Field(description="The same, each net times its weight. In µm.")
    routed_um: float = Field(description="Length of the rectilinear spanning-tree routes. In µm.")
    area_um2: float = Field(description="Bounding box of the footprints. In µm².")
    overlap_um2: float = Field(description="Footprint overlap left after legalisation (0 = legal). In µm².")
    wire_resistors: int = Field(description="Wire and via resistors the extraction adds.")
    wire_cap_f: float = Field(description="Total wire capacitance to ground. In F.")
    pair_dvth_mv: dict[str, float] = Field(description="Threshold mismatch of each symmetric MOS pair (first - second). In mV.")
    net_weights: dict[str, float] = Field(description="Weight of every knob as used (knob -> weight).")


def pair_mismatch_mv(circuit: Circuit, parasitics: Parasitics) -> dict[str, float]:
    """dVth(first) - dVth(second) of every symmetric MOS pair, in mV."""
    out = {}
    for a, b in circuit.sym_pairs:
        if a in parasitics.dvth and b in parasitics.dvth:
            out[f"{a}/{b}"] = round(1e3 * (parasitics.dvth[a] - parasitics.dvth[b]), 4)
    return out


def write_layout_artifacts(
    circuit: Circuit,
    placement: Placement,
    routes: tuple[NetRoute, ...],
    folder: Path,
    tech: Technology,
    title: str,
    meta: dict,
) -> dict[str, str]:
    """layout.gds, layout.png and layout.json (cell positions + the options that rebuild the cells)."""
    from tools.analog.drawing import write_gds, write_png  # gdstk and matplotlib: only when drawing

    gds = write_gds(circuit, placement, routes, folder / "layout.gds", tech.wire_width_um)
    png = write_png(circuit, placement, routes, folder / "layout.png", title)
    cells = [{"name": c.name, "x": round(x, 6), "y": round(y, 6)} for c, x, y in zip(placement.cells, placement.x, placement.y)]
    (folder / "layout.json").write_text(json.dumps({**meta, "cells": cells}, indent=1))
    return {"gds": str(gds), "png": str(png), "layout": str(folder / "layout.json")}


def run_analog_place(args: AnalogPlaceArgs, progress: ProgressFn | None = None) -> AnalogPlaceResult:
    """Place with the given net weights (MAGICAL-style analytical placer), route, extract; write GDS/PNG/JSON."""
    report(progress, f"placing {args.circuit}", 0.0)
    circuit = load_circuit(args.circuit)
    options = layout_options(args)
    weights = net_weights(circuit, args.net_weights)
    with Timer() as timer:
        cells = build_cells(circuit, GF180, options.symmetric, options.common_centroid)
        placement = place(circuit, cells, weights, area_weight=options.area_weight, seed=options.placement_seed)
        routes = route(placement)
        parasitics = extract(circuit, placement, routes, GF180)
    report(progress, "writing GDS and PNG", 0.8)
    folder = run_dir(args.out_dir, "analog-place")
    knobs = {k.name: weights.get(k.nets[0], 1.0) for k in circuit.knobs}
    meta = {"circuit": circuit.name, "options": args.model_dump(include=set(LayoutArgs.model_fields) - {"circuit"}), "net_weights": knobs}
    artifacts = write_layout_artifacts(circuit, placement, routes, folder, GF180, f"{circuit.name}: placed", meta)
    report(progress, "done", 1.0)
    return AnalogPlaceResult(
        circuit=circuit.name,
        devices=len(circuit.devices),
        cells=len(cells),
        hpwl_um=round(placement.hpwl_um, 3),
        weighted_hpwl_um=round(placement.weighted_hpwl_um, 3),
        routed_um=round(sum(r.length_um for r in routes), 3),
        area_um2=round(placement.area_um2, 2),
        overlap_um2=round(placement.overlap_um2, 6),
        wire_resistors=len(parasitics.resistors),
        wire_cap_f=sum(c for _, c in parasitics.capacitors),
        pair_dvth_mv=pair_mismatch_mv(circuit, parasitics),
        net_weights=knobs,
        seed=args.placement_seed,
        seconds=round(timer.seconds, 4),
        versions=package_versions("numpy", "gdstk", "matplotlib"),
        artifacts=artifacts,
    )
