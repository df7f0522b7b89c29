"""DiffOPC optimiser: exact loss gradients through the engine, and a short run that improves a real clip legally."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tools.litho.metrics import evaluate_mask
from tools.opc.configs import DiffOPCConfig
from tools.opc.diffopc import _schedule, edge_model, optimize_edges, sample_points
from tools.opc.legalize import move_bounds


UNCORRECTED_L2 = 41732  # M1_test10 printed as drawn, exact raster (tests/tools/litho, `litho simulate`)


def test_schedule_splits_iterations_over_grids_in_order() -> None:
    config = DiffOPCConfig(iterations=7, grids=((128, 0.4), (256, 0.6)))
    assert _schedule(config) == [128, 128, 128, 256, 256, 256, 256]


def test_bilinear_sampling_hits_grid_values_and_interpolates_between() -> None:
    image = torch.arange(16, dtype=torch.float64).reshape(4, 4)  # sample j sits at full-res 4 j
    pts = torch.tensor([[4.0, 8.0], [6.0, 8.0], [0.0, 0.0]], dtype=torch.float64)  # (x, y)
    got = sample_points(image, pts, step=4)
    assert got.tolist() == pytest.approx([image[2, 1].item(), (image[2, 1] + image[2, 2]).item() / 2, 0.0])


def test_loss_gradient_through_the_engine_matches_finite_differences(opc_data: None) -> None:
    """Exact gradients end to end: offsets -> closed-form spectrum -> SOCS image -> loss (float64)."""
    from tools.litho.clips import load_clip
    from tools.litho.simulator import LithoSim

    sim = LithoSim(dtype=torch.float64)
    model = edge_model(load_clip("M1_test10").layout.polygons, 60, sim.size, inclusive=False)
    x0 = torch.as_tensor(np.random.default_rng(0).uniform(-5, 5, len(model.segs)), dtype=torch.float64)

    def loss(x: torch.Tensor) -> torch.Tensor:
        aerial = sim.intensity_from_spectrum(model.spectrum(x), "nominal", out_size=128)
        return sim.print_image(aerial).square().sum()

    x = x0.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(x), x)
    eps = 1e-5
    for i in (0, 3, len(x0) // 2, len(x0) - 1):
        e = torch.zeros_like(x0)
        e[i] = eps
        numeric = ((loss(x0 + e) - loss(x0 - e)) / (2 * eps)).item()
        assert grad[i].item() == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_short_run_improves_l2_and_stays_legal(sim) -> None:
    from tools.litho.clips import load_clip
    from tools.litho.raster import rasterize

    clip = load_clip("M1_test10")
    target = rasterize(clip.layout)
    model = edge_model(clip.layout.polygons, 60, sim.size, inclusive=False)
    config = DiffOPCConfig(iterations=12, step_nm=3.0, grids=((256, 1.0),))
    result = optimize_edges(model, target, sim, config)
    lower, upper = move_bounds(model.segs, config.rules)
    assert np.all(result.offsets >= lower) and np.all(result.offsets <= upper)
    assert set(np.unique(result.mask)) == {0.0, 1.0}
    after = evaluate_mask(result.mask, target, sim)
    assert after.l2 < 0.75 * UNCORRECTED_L2
    assert after.mrc_violations == 0
    losses = [h["loss"] for h in result.history]
    assert result.best_iteration == int(np.argmin(losses))
