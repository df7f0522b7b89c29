"""Net-weighted analytical placement with mirror symmetry, in the spirit of MAGICAL's analog placer.

Objective (Xu et al., "Device Layer-Aware Analytical Placement for Analog Circuits", ISPD 2019, the placer of
MAGICAL; here without the device-layer terms):

    sum_n w_n * WA_n(x, y)  +  lambda_area * A_bbox  +  lambda_ov * sum_{i<j} ov_x(i, j) * ov_y(i, j)

- WA_n is the weighted-average wirelength of net n (Hsu, Chang, Balabanov, DAC 2011), a smooth HPWL with
  smoothing length gamma: sum x e^{x/g} / sum e^{x/g} - sum x e^{-x/g} / sum e^{-x/g}, per axis;
- A_bbox is the bounding-box area from the same smooth max/min of the cell edges;
- ov_x, ov_y are the overlaps of two footprints per axis, so the last term is their overlap area.

Symmetry is exact by construction: a mirrored pair shares one y and sits at x = -u and +u about the axis
x = 0; self-symmetric cells keep x = 0. The start is a weighted quadratic placement (smooth in the weights)
pulled weakly towards seeded random anchors; the overlap weight then grows geometrically (a penalty
continuation) and a final phase with only the overlap term removes what is left. Adam with analytic
gradients in numpy: deterministic for a seed. Like any placer that removes overlaps, it can jump between
local minima when a weight changes a little, so the knob-to-score map is rugged (measured in eval/bench_analog).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tools.analog.circuits import Circuit
from tools.analog.layout import Cell, pin_offset
from tools.common import InputError

__all__ = ("Pin", "Placement", "place", "fixed_placement")

# Schedule constants chosen here (not from the paper): with them every placement of both OTAs measured so far
# (hundreds in tests and benchmarks) ended legal, in about 0.1-0.3 s.
_GAMMA_UM = 2.0  # WA smoothing length: about a device margin, so the model is close to HPWL at device scale
_ITERS = 500
_LEGALIZE_ITERS = 300
_LR = 1.0  # Adam step in µm
_OV_START, _OV_END = 0.05, 50.0  # overlap weight per µm² of overlap, grown geometrically over _ITERS


@dataclass(frozen=True)
class Pin:
    device: str
    terminal: str
    net: str
    x: float
    y: float


@dataclass(frozen=True)
class Placement:
    """Placed cells (centres in µm, symmetry axis at x = 0) and the pins of every signal net."""

    cells: tuple[Cell, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]
    mirrored: tuple[bool, ...]
    pins: tuple[Pin, ...]
    hpwl_um: float
    weighted_hpwl_um: float
    area_um2: float
    overlap_um2: float

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) over the footprints."""
        xs0 = [x - c.w / 2 for x, c in zip(self.x, self.cells)]
        xs1 = [x + c.w / 2 for x, c in zip(self.x, self.cells)]
        ys0 = [y - c.h / 2 for y, c in zip(self.y, self.cells)]
        ys1 = [y + c.h / 2 for y, c in zip(self.y, self.cells)]
        return min(xs0), min(ys0), max(xs1), max(ys1)

    def device_rects(self) -> dict[str, list[tuple[float, float, float, float]]]:
        """Absolute drawn rectangles per device, as (cx, cy, w, h), mirrored where the cell is."""
        out: dict[str, list[tuple[float, float, float, float]]] = {}
        for cell, x, y, mir in zip(self.cells, self.x, self.y, self.mirrored):
            for dev, parts in cell.parts.items():
                out[dev] = [((-r.cx if mir else r.cx) + x, r.cy + y, r.w, r.h) for r in parts]
        return out


def _pins_of(circuit: Circuit, cells: list[Cell]) -> list[tuple[int, str, str, str, float, float]]:
    """(cell index, device, terminal, net, dx, dy unmirrored) of every signal-net terminal."""
    where = {dev: k for k, cell in enumerate(cells) for dev in cell.devices}
    out = []
    for dev in circuit.devices:
        k = where[dev.name]
        cell = cells[k]
        parts = cell.parts[dev.name]
        cx = sum(r.cx for r in parts) / len(parts)
        cy = sum(r.cy for r in parts) / len(parts)
        w, h = cell.w, cell.h
        shift = 0.0
        if len(cell.devices) == 2:  # common-centroid block: keep the two devices' pins apart
            shift = -0.15 * w if dev.name == cell.devices[0] else 0.15 * w
        for term, net in zip(dev.terminals, dev.nets):
            if net in circuit.supply_nets:
                continue
            dx, dy = pin_offset(term, w, h, mirrored=False)
            out.append((k, dev.name, term, net, cx + dx + shift, cy + dy))
    return out


def _linear_maps(cells: list[Cell]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Matrices with x = Mx p, y = My p for the free parameters p, and the mirror flag of each cell."""
    mx = np.zeros((len(cells), 2 * len(cells)))
    my = np.zeros_like(mx)
    mirrored = np.zeros(len(cells), dtype=bool)
    n = 0
    for k, cell in enumerate(cells):
        if cell.role == "right":
            continue
        if cell.role == "free":
            mx[k, n], my[k, n + 1] = 1.0, 1.0
            n += 2
        elif cell.role == "self":
            my[k, n] = 1.0
            n += 1
        else:  # left: u at n, shared y at n + 1
            j = cell.partner
            mx[k, n], mx[j, n] = -1.0, 1.0
            my[k, n + 1], my[j, n + 1] = 1.0, 1.0
            mirrored[j] = True
            n += 2
    return mx[:, :n], my[:, :n], mirrored, n


def _wa_grad(v: np.ndarray, mask: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted-average wirelength per net along one axis and its gradient; v, mask: (nets, max_pins).

    With a = e^{x/g}, f = sum x a / sum a: df/dx_i = a_i / sum a * (1 + (x_i - f) / g); likewise for the
    smooth minimum with b = e^{-x/g} and the sign of the second term flipped.
    """
    big = np.where(mask, v, -np.inf)
    small = np.where(mask, v, np.inf)
    a = np.exp((big - big.max(axis=1, keepdims=True)) / gamma)
    b = np.exp(-(small - small.min(axis=1, keepdims=True)) / gamma)
    vz = np.where(mask, v, 0.0)
    pa, pb = a / a.sum(axis=1, keepdims=True), b / b.sum(axis=1, keepdims=True)
    f = (vz * pa).sum(axis=1, keepdims=True)
    g = (vz * pb).sum(axis=1, keepdims=True)
    grad = pa * (1 + (vz - f) / gamma) - pb * (1 - (vz - g) / gamma)
    return (f - g)[:, 0], np.where(mask, grad, 0.0)


def _span_grad(x: np.ndarray, half: np.ndarray, g: float) -> tuple[float, np.ndarray]:
    """Smooth extent max(x + half) - min(x - half) by log-sum-exp, and its gradient."""
    hi, lo = (x + half) / g, -(x - half) / g
    phi, plo = np.exp(hi - hi.max()), np.exp(lo - lo.max())
    span = g * (hi.max() + np.log(phi.sum())) + g * (lo.max() + np.log(plo.sum()))
    return span, phi / phi.sum() - plo / plo.sum()


class _Objective:
    """The placement objective over the free parameters, with its analytic gradient (numpy)."""

    def __init__(self, circuit: Circuit, cells: list[Cell], net_weights: dict[str, float], area_weight: float):
        self.pins = _pins_of(circuit, cells)
        nets = list(dict.fromkeys(p[3] for p in self.pins))
        by_net = {n: [k for k, p in enumerate(self.pins) if p[3] == n] for n in nets}
        multi = [n for n in nets if len(by_net[n]) > 1]
        self.mx, self.my, self.mirrored, self.n_params = _linear_maps(cells)
        self.w = np.array([c.w for c in cells])
        self.h = np.array([c.h for c in cells])
        self.pin_cell = np.array([p[0] for p in self.pins], dtype=int)
        sign = np.where(self.mirrored[self.pin_cell], -1.0, 1.0)
        self.pin_dx = np.array([p[4] for p in self.pins]) * sign
        self.pin_dy = np.array([p[5] for p in self.pins])
        width = max((len(by_net[n]) for n in multi), default=1)
        self.index = np.zeros((len(multi), width), dtype=int)
        self.mask = np.zeros((len(multi), width), dtype=bool)
        for r, n in enumerate(multi):
            self.index[r, : len(by_net[n])] = by_net[n]
            self.mask[r, : len(by_net[n])] = True
        self.weights = np.array([float(net_weights.get(n, 1.0)) for n in multi])
        self.iu, self.ju = np.triu_indices(len(cells), k=1)
        self.area_weight = area_weight
        self.n_cells = len(cells)

    def overlap(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Total pairwise overlap area and its gradient per cell."""
        i, j = self.iu, self.ju
        dx, dy = x[i] - x[j], y[i] - y[j]
        ox = np.maximum((self.w[i] + self.w[j]) / 2 - np.abs(dx), 0.0)
        oy = np.maximum((self.h[i] + self.h[j]) / 2 - np.abs(dy), 0.0)
        gxi = -np.sign(dx) * (ox > 0) * oy  # d(ox*oy)/dx_i; d/dx_j is its negative
        gyi = -np.sign(dy) * (oy > 0) * ox
        n = self.n_cells
        gx = np.bincount(i, gxi, n) - np.bincount(j, gxi, n)
        gy = np.bincount(i, gyi, n) - np.bincount(j, gyi, n)
        return float((ox * oy).sum()), gx, gy

    def __call__(self, p: np.ndarray, ov_weight: float) -> tuple[float, np.ndarray]:
        x, y = self.mx @ p, self.my @ p
        px, py = x[self.pin_cell] + self.pin_dx, y[self.pin_cell] + self.pin_dy
        wl_x, gwx = _wa_grad(px[self.index], self.mask, _GAMMA_UM)
        wl_y, gwy = _wa_grad(py[self.index], self.mask, _GAMMA_UM)
        wgt = self.weights[:, None]
        n_pins = len(self.pins)
        gpx = np.bincount(self.index.ravel(), (gwx * wgt).ravel(), n_pins)
        gpy = np.bincount(self.index.ravel(), (gwy * wgt).ravel(), n_pins)
        gx = np.bincount(self.pin_cell, gpx, self.n_cells)
        gy = np.bincount(self.pin_cell, gpy, self.n_cells)
        g = 4 * _GAMMA_UM
        span_x, dsx = _span_grad(x, self.w / 2, g)
        span_y, dsy = _span_grad(y, self.h / 2, g)
        gx += self.area_weight * span_y * dsx
        gy += self.area_weight * span_x * dsy
        ov, gox, goy = self.overlap(x, y)
        gx += ov_weight * gox
        gy += ov_weight * goy
        value = float((self.weights * (wl_x + wl_y)).sum()) + self.area_weight * span_x * span_y + ov_weight * ov
        return value, self.mx.T @ gx + self.my.T @ gy


class _Adam:
    """Adam (Kingma & Ba, ICLR 2015) with the paper's defaults beta1 = 0.9, beta2 = 0.999, eps = 1e-8."""

    def __init__(self, size: int, lr: float):
        self.lr, self.t = lr, 0
        self.m, self.v = np.zeros(size), np.zeros(size)

    def step(self, p: np.ndarray, grad: np.ndarray) -> np.ndarray:
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * grad
        self.v = 0.999 * self.v + 0.001 * grad**2
        m_hat, v_hat = self.m / (1 - 0.9**self.t), self.v / (1 - 0.999**self.t)
        return p - self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


def _quadratic_start(obj: _Objective, anchors: np.ndarray, side: float) -> np.ndarray:
    """Weighted quadratic placement (clique net model, weight w_n / (pins - 1) per pin pair) with weak springs
    to seeded random anchors, rescaled to the layout's size. It is a smooth function of the net weights, so
    nearby weights start the nonconvex overlap removal from nearby points (fewer jumps between local minima).
    """
    rows, rhs = [], []
    for r in range(len(obj.weights)):
        members = obj.index[r, obj.mask[r]]
        w = obj.weights[r] / (len(members) - 1)
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                i, j = members[a], members[b]
                ci, cj = obj.pin_cell[i], obj.pin_cell[j]
                for m, d in ((obj.mx, obj.pin_dx), (obj.my, obj.pin_dy)):
                    rows.append(math.sqrt(w) * (m[ci] - m[cj]))
                    rhs.append(-math.sqrt(w) * (d[i] - d[j]))
    eps = 1e-2 * max(float(obj.weights.mean()) if len(obj.weights) else 1.0, 1e-3)
    for k in range(obj.n_cells):
        for m, a in ((obj.mx, anchors[k, 0]), (obj.my, anchors[k, 1])):
            if m[k].any():
                rows.append(math.sqrt(eps) * m[k])
                rhs.append(math.sqrt(eps) * a)
    p = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    x, y = obj.mx @ p, obj.my @ p
    spread = math.sqrt(float(np.var(x) + np.var(y))) or 1.0
    return p * (side / 2) / spread


def place(
    circuit: Circuit,
    cells: list[Cell],
    net_weights: dict[str, float],
    area_weight: float = 0.1,
    seed: int = 0,
) -> Placement:
    """Place ``cells``; ``net_weights`` maps net name -> weight (missing nets weigh 1, supplies are ignored).

    Args:
        area_weight: lambda_area per µm² of bounding box, against wirelength in µm.
        seed: seeds the initial positions; the same seed gives the same placement.
    """
    obj = _Objective(circuit, cells, net_weights, area_weight)
    rng = np.random.default_rng(seed)
    side = math.sqrt(float((obj.w * obj.h).sum()))
    p = _quadratic_start(obj, rng.uniform(-side / 2, side / 2, (obj.n_cells, 2)), side)
    adam = _Adam(obj.n_params, _LR)
    ratio = (_OV_END / _OV_START) ** (1 / (_ITERS - 1))
    for it in range(_ITERS):
        p = adam.step(p, obj(p, _OV_START * ratio**it)[1])
    adam = _Adam(obj.n_params, _LR / 10)
    for _ in range(_LEGALIZE_ITERS):
        ov, gx, gy = obj.overlap(obj.mx @ p, obj.my @ p)
        if ov < 1e-9:
            break
        p = adam.step(p, obj.mx.T @ gx + obj.my.T @ gy)
    x, y = obj.mx @ p, obj.my @ p
    return _result(cells, x, y, obj.mirrored, obj.pins, net_weights, obj.overlap(x, y)[0])


def fixed_placement(
    circuit: Circuit, cells: list[Cell], x: np.ndarray, y: np.ndarray, net_weights: dict[str, float]
) -> Placement:
    """A placement at given cell centres (e.g. read back from a layout file), with its pins and metrics.

    Raises:
        InputError: the positions break the mirror symmetry of a pair or of a self-symmetric cell.
    """
    obj = _Objective(circuit, cells, net_weights, 0.0)
    for k, cell in enumerate(cells):
        off_axis = cell.role == "self" and abs(x[k]) > 1e-6
        broken = cell.role == "left" and (abs(x[k] + x[cell.partner]) > 1e-6 or abs(y[k] - y[cell.partner]) > 1e-6)
        if off_axis or broken:
            raise InputError(f"placement.{cell.name}", (float(x[k]), float(y[k])), "positions that keep the mirror symmetry about x = 0")
    return _result(cells, np.asarray(x), np.asarray(y), obj.mirrored, obj.pins, net_weights, obj.overlap(x, y)[0])


def _result(
    cells: list[Cell],
    x: np.ndarray,
    y: np.ndarray,
    mirrored: np.ndarray,
    pins: list[tuple[int, str, str, str, float, float]],
    net_weights: dict[str, float],
    overlap: float,
) -> Placement:
    placed = tuple(
        Pin(dev, term, net, float(x[k] + (-dx if mirrored[k] else dx)), float(y[k] + dy))
        for k, dev, term, net, dx, dy in pins
    )
    hpwl = weighted = 0.0
    for net in dict.fromkeys(p.net for p in placed):
        xs = [p.x for p in placed if p.net == net]
        ys = [p.y for p in placed if p.net == net]
        length = max(xs) - min(xs) + max(ys) - min(ys)
        hpwl += length
        weighted += net_weights.get(net, 1.0) * length
    x0 = min(float(xi) - c.w / 2 for xi, c in zip(x, cells))
    x1 = max(float(xi) + c.w / 2 for xi, c in zip(x, cells))
    y0 = min(float(yi) - c.h / 2 for yi, c in zip(y, cells))
    y1 = max(float(yi) + c.h / 2 for yi, c in zip(y, cells))
    return Placement(
        cells=tuple(cells),
        x=tuple(float(v) for v in x),
        y=tuple(float(v) for v in y),
        mirrored=tuple(bool(m) for m in mirrored),
        pins=placed,
        hpwl_um=hpwl,
        weighted_hpwl_um=weighted,
        area_um2=(x1 - x0) * (y1 - y0),
        overlap_um2=overlap,
    )
