"""Artefacts of a placement: a GDS (gdstk) and a PNG (matplotlib) with devices, routes and the symmetry axis.

GDS layer numbers follow MAGICAL's mock PDK (shared/data/analog/magical/examples/mockPDK/techfile.simple):
NW 3, OD 6, PO 17, RPO 29, M2 32, M3 33, VIA1 51; labels are texts on layer 63. Units: 1 µm, precision 1 nm.
"""

from __future__ import annotations

from pathlib import Path

import gdstk

from tools.analog.circuits import Circuit
from tools.analog.placer import Placement
from tools.analog.routing import NetRoute

__all__ = ("write_gds", "write_png")

_NW, _OD, _PO, _RPO, _M2, _M3, _VIA1, _TEXT = 3, 6, 17, 29, 32, 33, 51, 63


def _rect(cx: float, cy: float, w: float, h: float, layer: int) -> gdstk.Polygon:
    return gdstk.rectangle((cx - w / 2, cy - h / 2), (cx + w / 2, cy + h / 2), layer=layer)


def write_gds(circuit: Circuit, placement: Placement, routes: tuple[NetRoute, ...], path: Path, wire_um: float) -> Path:
    """One top cell: drawn device areas (OD + poly fingers, NW for PMOS, poly + RPO for resistors, M3 plates
    for capacitors), Metal2 L-routes of ``wire_um`` width, a VIA1 at every pin, and device/net labels."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell(circuit.name)
    kinds = {d.name: d for d in circuit.devices}
    for dev_name, rects in placement.device_rects().items():
        dev = kinds[dev_name]
        for cx, cy, w, h in rects:
            if dev.kind in ("nmos", "pmos"):
                top.add(_rect(cx, cy, w, h, _OD))
                if dev.kind == "pmos":
                    top.add(_rect(cx, cy, w + 1.0, h + 1.0, _NW))
                top.add(_rect(cx, cy, min(dev.l_um, w), h + 0.4, _PO))
            elif dev.kind == "res":
                top.add(_rect(cx, cy, w, h, _PO), _rect(cx, cy, w, h * 0.8, _RPO))
            else:
                top.add(_rect(cx, cy, w, h, _M3))
        first = rects[0]
        top.add(gdstk.Label(dev_name, (first[0], first[1]), layer=_TEXT))
    for r in routes:
        for seg in r.segments:
            a, b = r.pins[seg.a], r.pins[seg.b]
            for (x0, y0), (x1, y1) in (((a.x, a.y), seg.corner), (seg.corner, (b.x, b.y))):
                if abs(x1 - x0) + abs(y1 - y0) > 1e-9:
                    top.add(
                        gdstk.rectangle(
                            (min(x0, x1) - wire_um / 2, min(y0, y1) - wire_um / 2),
                            (max(x0, x1) + wire_um / 2, max(y0, y1) + wire_um / 2),
                            layer=_M2,
                        )
                    )
        for pin in r.pins:
            top.add(_rect(pin.x, pin.y, wire_um, wire_um, _VIA1))
        if r.pins:
            top.add(gdstk.Label(r.net, (r.pins[0].x, r.pins[0].y), layer=_TEXT, texttype=1))
    lib.write_gds(str(path))
    return path


_COLOURS = {"nmos": "#4C72B0", "pmos": "#DD8452", "res": "#55A868", "cap": "#8172B3"}


def write_png(circuit: Circuit, placement: Placement, routes: tuple[NetRoute, ...], path: Path, title: str) -> Path:
    """Devices coloured by type with names, footprints dashed, routes as thin lines, symmetry axis dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    kinds = {d.name: d.kind for d in circuit.devices}
    x0, y0, x1, y1 = placement.bbox
    size = 7.0
    fig, ax = plt.subplots(figsize=(size, size * max(0.4, min(2.5, (y1 - y0) / max(x1 - x0, 1e-9)))))
    for cell, cx, cy in zip(placement.cells, placement.x, placement.y):
        ax.add_patch(Rectangle((cx - cell.w / 2, cy - cell.h / 2), cell.w, cell.h, fill=False, ls="--", lw=0.4, ec="grey"))
    for dev, rects in placement.device_rects().items():
        for cx, cy, w, h in rects:
            ax.add_patch(Rectangle((cx - w / 2, cy - h / 2), w, h, fc=_COLOURS[kinds[dev]], ec="black", lw=0.5, alpha=0.75))
        ax.text(rects[0][0], rects[0][1], dev, ha="center", va="center", fontsize=6)  # split devices: first part
    for r in routes:
        for seg in r.segments:
            a, b = r.pins[seg.a], r.pins[seg.b]
            ax.plot([a.x, seg.corner[0], b.x], [a.y, seg.corner[1], b.y], lw=0.6, color="#C44E52", alpha=0.7)
    ax.axvline(0.0, ls=":", color="black", lw=0.8)
    ax.set_xlim(x0 - 2, x1 + 2)
    ax.set_ylim(y0 - 2, y1 + 2)
    ax.set_aspect("equal")
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
