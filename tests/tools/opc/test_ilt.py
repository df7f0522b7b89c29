"""Pixel ILT baseline: only the window changes, the loss falls, the mask comes back binary."""

from __future__ import annotations

import numpy as np

from tools.opc.configs import ILTConfig
from tools.opc.ilt import optimize_pixels


def test_two_sgd_steps_lower_the_loss_and_leave_the_outside_alone(sim) -> None:
    from tools.litho.clips import load_clip
    from tools.litho.raster import rasterize

    target = rasterize(load_clip("M1_test10").layout, convention="inclusive")
    config = ILTConfig(iterations=3, window_offset=768, window_size=512)
    result = optimize_pixels(target, sim, config)
    losses = [h["loss"] for h in result.history]
    assert losses[-1] < losses[0]
    assert set(np.unique(result.mask)) <= {0.0, 1.0}
    outside = np.ones_like(target, dtype=bool)
    outside[768:1280, 768:1280] = False
    np.testing.assert_array_equal(result.mask[outside], target[outside])
    assert result.best_iteration == int(np.argmin(losses))
