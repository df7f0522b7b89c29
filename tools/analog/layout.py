"""Device geometry for placement: footprints from W/L/fingers/multiplier, pins, and placement cells.

A MOS device is a row-folded stack of gate stripes: ``fingers x mult`` stripes of width W/fingers, folded
into the number of rows that brings the block closest to square; each stripe takes L + one source/drain
diffusion, plus one diffusion at the end. A poly resistor is its series strips side by side; a capacitor is a
square MIM plate of C / density. Every footprint carries the technology's margin on each side, so abutting
footprints keep twice the margin between devices.

A *cell* is what the placer moves: one device, or a common-centroid pair (two equal MOS devices split in two
halves each and placed ABBA in a 2 x 2 block, so both centroids coincide and a linear gradient cancels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tools.analog.circuits import Circuit, Device
from tools.analog.tech import Technology
from tools.common import InputError

__all__ = ("Rect", "Cell", "active_size", "build_cells", "pin_offset")


@dataclass(frozen=True)
class Rect:
    """Axis-aligned rectangle by centre and size, in µm."""

    cx: float
    cy: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return self.w * self.h


def _mos_block(dev: Device, tech: Technology, stripes: int) -> tuple[float, float]:
    """Active (unmargined) width and height of ``stripes`` gate stripes, folded into the squarest row count."""
    finger_w = dev.w_um / dev.fingers
    pitch = dev.l_um + tech.sd_length_um
    best = (math.inf, 0.0, 0.0)
    for rows in range(1, stripes + 1):
        per_row = math.ceil(stripes / rows)
        w = per_row * pitch + tech.sd_length_um
        h = rows * finger_w + (rows - 1) * tech.sd_length_um
        score = abs(math.log(w / h))
        if score < best[0] - 1e-12:
            best = (score, w, h)
    return best[1], best[2]


def active_size(dev: Device, tech: Technology, share: float = 1.0) -> tuple[float, float]:
    """Width and height of the device's drawn area without margin (``share`` < 1: a fraction of its stripes)."""
    if dev.kind in ("nmos", "pmos"):
        return _mos_block(dev, tech, max(1, math.ceil(dev.fingers * dev.mult * share)))
    if dev.kind == "res":
        return dev.fingers * tech.res_strip_pitch_um, dev.l_um
    side = math.sqrt(dev.value / tech.cap_density_f_per_um2)
    return side, side


_PIN = {"d": (0.0, 0.3), "s": (0.0, -0.3), "g": (-0.3, 0.0), "b": (0.0, 0.0), "p": (-0.35, 0.0), "n": (0.35, 0.0)}


def pin_offset(terminal: str, w: float, h: float, mirrored: bool) -> tuple[float, float]:
    """Where a terminal sits relative to its device centre; mirrored devices flip x (symmetric routing)."""
    fx, fy = _PIN[terminal]
    return (-fx if mirrored else fx) * w, fy * h


@dataclass(frozen=True)
class Cell:
    """A placeable block.

    Attributes:
        name: the device name, or ``A+B`` for a common-centroid pair.
        w, h: footprint with margins, in µm.
        devices: the devices inside.
        parts: per device, its drawn rectangles relative to the cell centre (unmirrored).
        role: ``free``, ``self`` (centred on the symmetry axis), ``left``/``right`` (a mirrored pair).
        partner: index of the other cell of a mirrored pair, else -1.
    """

    name: str
    w: float
    h: float
    devices: tuple[str, ...]
    parts: dict[str, tuple[Rect, ...]]
    role: str
    partner: int = -1


def build_cells(
    circuit: Circuit, tech: Technology, symmetric: bool = True, common_centroid: tuple[str, ...] = ()
) -> list[Cell]:
    """Cells of a circuit: mirrored pairs from ``circuit.sym_pairs``, ABBA blocks for ``common_centroid`` pairs.

    ``common_centroid`` names pairs by either device (``"M40"`` for M40/M43); only equal MOS pairs qualify.
    """
    if common_centroid and not symmetric:
        raise InputError("common_centroid", list(common_centroid), "an empty list when symmetric is False")
    by_name = {d.name: d for d in circuit.devices}
    pair_of = {a: (a, b) for a, b in circuit.sym_pairs} | {b: (a, b) for a, b in circuit.sym_pairs}
    cc_pairs = set()
    for name in common_centroid:
        pair = pair_of.get(name.upper())
        if pair is None:
            raise InputError("common_centroid", name, [a for a, _ in circuit.sym_pairs if _is_mos(by_name[a])])
        a, b = (by_name[n] for n in pair)
        if not (_is_mos(a) and (a.kind, a.w_um, a.l_um, a.fingers, a.mult) == (b.kind, b.w_um, b.l_um, b.fingers, b.mult)):
            raise InputError("common_centroid", name, "a pair of identical MOS devices")
        cc_pairs.add(pair)
    cells: list[Cell] = []
    done: set[str] = set()
    for dev in circuit.devices:
        if dev.name in done:
            continue
        pair = pair_of.get(dev.name) if symmetric else None
        if pair in cc_pairs:
            cells.append(_cc_cell(by_name[pair[0]], by_name[pair[1]], tech))
            done.update(pair)
        elif pair is not None:
            for k, name in enumerate(pair):
                cells.append(_single(by_name[name], tech, "left" if k == 0 else "right"))
            cells[-1] = _with_partner(cells[-1], len(cells) - 2)
            cells[-2] = _with_partner(cells[-2], len(cells) - 1)
            done.update(pair)
        else:
            role = "self" if symmetric and dev.name in circuit.self_sym else "free"
            cells.append(_single(dev, tech, role))
            done.add(dev.name)
    return cells


def _is_mos(dev: Device) -> bool:
    return dev.kind in ("nmos", "pmos")


def _single(dev: Device, tech: Technology, role: str) -> Cell:
    w, h = active_size(dev, tech)
    m = 2 * tech.device_margin_um
    return Cell(dev.name, w + m, h + m, (dev.name,), {dev.name: (Rect(0.0, 0.0, w, h),)}, role)


def _with_partner(cell: Cell, partner: int) -> Cell:
    return Cell(cell.name, cell.w, cell.h, cell.devices, cell.parts, cell.role, partner)


def _cc_cell(a: Device, b: Device, tech: Technology) -> Cell:
    """ABBA block: A at top-left and bottom-right, B at top-right and bottom-left (Hastings, The Art of Analog
    Layout, 2nd ed., sec. 7.2: a common centroid cancels any linear gradient)."""
    hw, hh = active_size(a, tech, share=0.5)
    gap = tech.sd_length_um  # halves of one device share a diffusion spacing with the other's
    dx, dy = (hw + gap) / 2, (hh + gap) / 2
    parts = {
        a.name: (Rect(-dx, dy, hw, hh), Rect(dx, -dy, hw, hh)),
        b.name: (Rect(dx, dy, hw, hh), Rect(-dx, -dy, hw, hh)),
    }
    m = 2 * tech.device_margin_um
    return Cell(f"{a.name}+{b.name}", 2 * hw + gap + m, 2 * hh + gap + m, (a.name, b.name), parts, "self")
