"""Parasitic network and layout-dependent threshold shifts."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from tools.analog.circuits import load_circuit
from tools.analog.extraction import DieField, extract, threshold_shifts
from tools.analog.layout import build_cells
from tools.analog.placer import place
from tools.analog.routing import route
from tools.analog.tech import GF180


def test_field_mean_over_a_rectangle_is_exact() -> None:
    field = DieField.of(GF180)
    cx, cy, w, h = 13.0, -7.0, 30.0, 12.0
    xs = cx + (np.arange(400) + 0.5) / 400 * w - w / 2  # midpoint rule, 400 x 400
    ys = cy + (np.arange(400) + 0.5) / 400 * h - h / 2
    gx, gy = np.meshgrid(xs, ys)
    values = field.scale * np.cos(np.einsum("mk,kxy->mxy", field.omega, np.stack([gx, gy])) + field.phase[:, None, None]).sum(0)
    assert field.mean_over(cx, cy, w, h) == pytest.approx(values.mean(), rel=1e-5, abs=1e-12)
    assert field.mean_over(cx, cy, 1e-9, 1e-9) == pytest.approx(field.scale * np.cos(field.omega @ [cx, cy] + field.phase).sum())


def test_linear_gradient_splits_a_mirrored_pair_and_common_centroid_cancels_it() -> None:
    tech = dataclasses.replace(GF180, field_sigma_v=0.0, gradient_v_per_um=1e-4, gradient_angle_deg=0.0)
    c = load_circuit("OTA_5T")
    pl = place(c, build_cells(c, tech), {}, seed=0)
    x = dict(zip([cell.name for cell in pl.cells], pl.x))
    d = threshold_shifts(pl, tech)
    assert d["M1"] - d["M2"] == pytest.approx(1e-4 * (x["M1"] - x["M2"]))  # g * dx along the gradient
    cc = place(c, build_cells(c, tech, common_centroid=("M1",)), {}, seed=0)
    d = threshold_shifts(cc, tech)
    assert d["M1"] - d["M2"] == pytest.approx(0.0, abs=1e-12)


def test_wire_network_has_a_via_stack_per_pin_and_a_resistor_per_segment() -> None:
    c = load_circuit("OTA_5T")
    pl = place(c, build_cells(c, GF180), {}, seed=0)
    routes = route(pl)
    para = extract(c, pl, routes, GF180)
    routed = [r for r in routes if len(r.pins) > 1]
    assert len(para.resistors) == sum(len(r.pins) + len(r.segments) for r in routed)
    total = sum(r.length_um for r in routed)
    assert sum(cap for _, cap in para.capacitors) == pytest.approx(total * GF180.wire_cap_f_per_um)
    tail = next(r for r in routes if r.net == "TAIL")
    first = tail.pins[0]
    assert para.pin_nodes[(first.device, first.terminal)] == "TAIL__t0"
    assert ("TAIL__t0", "TAIL", GF180.pin_ohm) in para.resistors  # the port node keeps the net's name
    assert set(para.dvth) == {"M1", "M2", "M3", "M4", "M5", "M6"}
    assert all(abs(v) < 5e-3 for v in para.dvth.values()) and not math.isnan(sum(para.dvth.values()))
