"""Manhattan route estimate per net: a rectilinear minimum spanning tree over the net's pins.

Prim's algorithm on Manhattan distances; each tree edge is routed as an L (horizontal leg, then vertical).
The rectilinear MST is at most 3/2 of the rectilinear Steiner minimum tree (Hwang, SIAM J. Appl. Math. 30(1),
1976), and equal to it for two- and most three-pin nets seen here; it fixes which pins a wire segment joins,
which is what the parasitic network needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.analog.placer import Pin, Placement

__all__ = ("Segment", "NetRoute", "route")


@dataclass(frozen=True)
class Segment:
    """One tree edge between two pins of a net (indices into ``NetRoute.pins``), routed as an L."""

    a: int
    b: int
    length_um: float
    corner: tuple[float, float]
    """The bend of the L: (x of b, y of a)."""


@dataclass(frozen=True)
class NetRoute:
    net: str
    pins: tuple[Pin, ...]
    segments: tuple[Segment, ...]

    @property
    def length_um(self) -> float:
        return sum(s.length_um for s in self.segments)


def _mst(pins: list[Pin]) -> list[Segment]:
    """Prim's rectilinear MST; ties go to the lower pin index, so the tree is deterministic."""
    n = len(pins)
    inside = [False] * n
    best = [float("inf")] * n
    parent = [-1] * n
    best[0] = 0.0
    segments: list[Segment] = []
    for _ in range(n):
        k = min((i for i in range(n) if not inside[i]), key=lambda i: (best[i], i))
        inside[k] = True
        if parent[k] >= 0:
            a, b = pins[parent[k]], pins[k]
            segments.append(Segment(parent[k], k, best[k], (b.x, a.y)))
        for i in range(n):
            if not inside[i]:
                d = abs(pins[i].x - pins[k].x) + abs(pins[i].y - pins[k].y)
                if d < best[i] - 1e-12:
                    best[i], parent[i] = d, k
    return segments


def route(placement: Placement) -> tuple[NetRoute, ...]:
    """Route every signal net of a placement (single-pin nets get no segments)."""
    nets: dict[str, list[Pin]] = {}
    for pin in placement.pins:
        nets.setdefault(pin.net, []).append(pin)
    return tuple(NetRoute(net, tuple(pins), tuple(_mst(pins))) for net, pins in nets.items())
