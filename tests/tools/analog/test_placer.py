"""The analytical placer: exact symmetry, legal result, determinism, net weights, and its analytic gradient."""

from __future__ import annotations

import numpy as np
import pytest

from tools.analog.circuits import load_circuit
from tools.analog.layout import build_cells
from tools.analog.placer import _Objective, fixed_placement, place
from tools.analog.tech import GF180
from tools.common import InputError


@pytest.fixture(scope="module")
def ota5t():
    c = load_circuit("OTA_5T")
    return c, build_cells(c, GF180)


def test_placement_is_symmetric_legal_and_deterministic(ota5t) -> None:
    c, cells = ota5t
    a = place(c, cells, {}, seed=3)
    b = place(c, cells, {}, seed=3)
    assert a.x == b.x and a.y == b.y
    assert a.overlap_um2 < 1e-6
    xs = {cell.name: x for cell, x in zip(a.cells, a.x)}
    ys = {cell.name: y for cell, y in zip(a.cells, a.y)}
    assert xs["M1"] == pytest.approx(-xs["M2"]) and ys["M1"] == pytest.approx(ys["M2"])
    assert xs["M5"] == pytest.approx(0.0)
    assert a.mirrored == tuple(cell.role == "right" for cell in a.cells)
    assert place(c, cells, {}, seed=4).x != a.x  # the seed matters


def test_a_heavy_net_gets_shorter_on_average(ota5t) -> None:
    c, cells = ota5t

    def length(net: str, weight: float) -> float:
        total = 0.0
        for seed in range(4):  # one seed can land in a lucky local minimum; the mean cannot
            pins = [p for p in place(c, cells, {net: weight}, seed=seed).pins if p.net == net]
            total += max(p.x for p in pins) - min(p.x for p in pins) + max(p.y for p in pins) - min(p.y for p in pins)
        return total / 4

    assert length("TAIL", 20.0) < 0.6 * length("TAIL", 0.0)


def test_analytic_gradient_matches_finite_differences() -> None:
    c = load_circuit("OTA_5T")
    cells = build_cells(c, GF180, common_centroid=("M1",))
    obj = _Objective(c, cells, {"TAIL": 3.0, "X": 0.5}, 0.1)
    p = np.random.default_rng(0).uniform(-15, 15, obj.n_params)
    _, grad = obj(p, 2.0)
    num = np.array([(obj(p + e, 2.0)[0] - obj(p - e, 2.0)[0]) / 2e-6 for e in np.eye(obj.n_params) * 1e-6])
    assert np.allclose(grad, num, rtol=1e-5, atol=1e-5)


def test_fixed_positions_must_keep_symmetry(ota5t) -> None:
    c, cells = ota5t
    ref = place(c, cells, {}, seed=0)
    again = fixed_placement(c, cells, np.array(ref.x), np.array(ref.y), {})
    assert again.pins == ref.pins and again.area_um2 == pytest.approx(ref.area_um2)
    x = np.array(ref.x)
    x[[k for k, cell in enumerate(cells) if cell.name == "M5"][0]] += 1.0
    with pytest.raises(InputError, match="placement.M5"):
        fixed_placement(c, cells, x, np.array(ref.y), {})
