"""Rectilinear spanning trees: lengths, L-shaped bends, determinism."""

from __future__ import annotations

import pytest

from tools.analog.placer import Pin, Placement
from tools.analog.routing import _mst, route


def _pins(*xy: tuple[float, float], net: str = "N") -> list[Pin]:
    return [Pin(f"D{k}", "g", net, x, y) for k, (x, y) in enumerate(xy)]


def test_three_pins_in_an_l_take_the_two_short_edges() -> None:
    segs = _mst(_pins((0, 0), (10, 0), (10, 4)))
    assert sorted((s.a, s.b, s.length_um) for s in segs) == [(0, 1, 10.0), (1, 2, 4.0)]


def test_edges_bend_at_the_corner_of_their_l() -> None:
    (seg,) = _mst(_pins((1, 2), (5, 9)))
    assert seg.corner == (5, 2) and seg.length_um == pytest.approx(11.0)


def test_route_groups_pins_by_net_and_skips_nothing() -> None:
    pins = tuple(_pins((0, 0), (3, 0), net="A") + _pins((0, 5), net="B"))
    placement = Placement((), (), (), (), pins, 0.0, 0.0, 0.0, 0.0)
    routes = {r.net: r for r in route(placement)}
    assert routes["A"].length_um == pytest.approx(3.0) and routes["B"].segments == ()
