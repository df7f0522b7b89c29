"""Parasitics and mismatch from a placed and routed layout, as a ``Parasitics`` the netlist writer stamps in.

Wires: every pin of a routed net gets two nodes, the device terminal and the point above it on the routing
layer, joined by the via stack (``vias_per_pin x via_ohm``); each tree segment of length l is a resistor
``l x sheet / width`` between the routing points of its pins, with its capacitance ``l x c_per_um`` split
half to each end (a pi section to ground). The first pin's routing point keeps the net's own name, so the
subcircuit's ports still connect. Supplies stay ideal.

Mismatch (positive = larger |Vth|), evaluated on each device's drawn rectangles:

    dVth = g * ((c - c0) . u_theta)  +  mean over the rectangle of f(x, y)

with c the rectangle centre, c0 the layout centre, and f a stationary Gaussian random field of the die
(std ``field_sigma_v``, squared-exponential correlation of length ``field_length_um``), realised by random
Fourier features (Rahimi & Recht, NIPS 2007): f(x) = s sqrt(2/M) sum_m cos(w_m . x + b_m), w_m ~ N(0, I/l^2),
b_m ~ U(0, 2 pi). Its mean over a w x h rectangle is exact in closed form: each cosine is multiplied by
sinc(w_mx w / 2) sinc(w_my h / 2) (sinc z = sin z / z). A device split into several rectangles (a
common-centroid half) averages them by area. Pair mismatch of this field grows with distance D as
s^2 D^2 / l^2 for D << l: Pelgrom's distance term with S = s / l.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tools.analog.circuits import Circuit
from tools.analog.placer import Placement
from tools.analog.routing import NetRoute
from tools.analog.spice import Parasitics
from tools.analog.tech import Technology

__all__ = ("DieField", "extract", "threshold_shifts")


@dataclass(frozen=True)
class DieField:
    """The random-Fourier-feature realisation of the die's threshold field (fixed by ``tech.die_seed``)."""

    omega: np.ndarray  # (M, 2) in rad/µm
    phase: np.ndarray  # (M,)
    scale: float  # s * sqrt(2 / M), in V

    @classmethod
    def of(cls, tech: Technology) -> DieField:
        rng = np.random.default_rng(tech.die_seed)
        m = tech.field_features
        omega = rng.normal(0.0, 1.0 / tech.field_length_um, size=(m, 2))
        phase = rng.uniform(0.0, 2 * math.pi, size=m)
        return cls(omega, phase, tech.field_sigma_v * math.sqrt(2.0 / m))

    def mean_over(self, cx: float, cy: float, w: float, h: float) -> float:
        """Exact mean of the field over the rectangle centred at (cx, cy) of size w x h (µm), in V."""
        arg = self.omega[:, 0] * cx + self.omega[:, 1] * cy + self.phase
        damp = np.sinc(self.omega[:, 0] * w / (2 * math.pi)) * np.sinc(self.omega[:, 1] * h / (2 * math.pi))
        return float(self.scale * (np.cos(arg) * damp).sum())  # np.sinc(t) = sin(pi t) / (pi t)


def threshold_shifts(placement: Placement, tech: Technology) -> dict[str, float]:
    """dVth per MOS device (V) from the gradient and the die field at its placed rectangles."""
    field = DieField.of(tech)
    x0, y0, x1, y1 = placement.bbox
    c0 = ((x0 + x1) / 2, (y0 + y1) / 2)
    theta = math.radians(tech.gradient_angle_deg)
    u = (math.cos(theta), math.sin(theta))
    out: dict[str, float] = {}
    for dev, rects in placement.device_rects().items():
        total = area = 0.0
        for cx, cy, w, h in rects:
            grad = tech.gradient_v_per_um * ((cx - c0[0]) * u[0] + (cy - c0[1]) * u[1])
            total += (grad + field.mean_over(cx - c0[0], cy - c0[1], w, h)) * w * h
            area += w * h
        out[dev] = total / area
    return out


def extract(circuit: Circuit, placement: Placement, routes: tuple[NetRoute, ...], tech: Technology) -> Parasitics:
    """Wire RC of every routed net and the threshold shift of every MOS device."""
    pin_nodes: dict[tuple[str, str], str] = {}
    resistors: list[tuple[str, str, float]] = []
    caps: dict[str, float] = {}
    for r in routes:
        if len(r.pins) < 2:
            continue
        top = [r.net] + [f"{r.net}__w{k}" for k in range(1, len(r.pins))]
        for k, pin in enumerate(r.pins):
            terminal = f"{r.net}__t{k}"
            pin_nodes[(pin.device, pin.terminal)] = terminal
            resistors.append((terminal, top[k], tech.pin_ohm))
        for seg in r.segments:
            resistors.append((top[seg.a], top[seg.b], seg.length_um * tech.wire_ohm_per_um))
            half = seg.length_um * tech.wire_cap_f_per_um / 2
            caps[top[seg.a]] = caps.get(top[seg.a], 0.0) + half
            caps[top[seg.b]] = caps.get(top[seg.b], 0.0) + half
    mos = {d.name for d in circuit.devices if d.kind in ("nmos", "pmos")}
    dvth = {k: v for k, v in threshold_shifts(placement, tech).items() if k in mos}
    return Parasitics(
        pin_nodes=pin_nodes,
        resistors=tuple(resistors),
        capacitors=tuple((n, c) for n, c in caps.items() if c > 0),
        dvth=dvth,
    )
