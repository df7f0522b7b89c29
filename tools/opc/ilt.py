"""Pixel ILT baseline with OpenILT's SimpleILT conventions (OpenOPC/OpenILT ``pyilt/simpleilt.py``).

Every pixel of a window is a parameter ``theta``; the mask is ``sigmoid(4 theta)`` inside the window and the
sigmoid of the initial parameters outside it (OpenILT ``SimpleILT.solve``). Initialisation ``theta = 2 T - 1``
(``PixelInit``). Loss, on the full-resolution prints ``P = sigmoid(50 (I - 0.225))``:

    loss = |P_nom - T|^2 + w_pvbl2 (|P_max - T|^2 + |P_min - T|^2) + w_pvband |P_max - P_min|^2

optimised by plain SGD, keeping the iterate of lowest loss; the final mask is that iterate binarised at 0.5.
Constants are those of OpenILT ``config/simpleilt2048.txt``: 20 iterations, step 0.5, steepness 4,
``WeightPVBL2 1.0``, ``WeightPVBand 0.0``, window 1024 x 1024 at offset 512 (LithoBench clips use 1280 at
384, their placement; see iccad13/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tools.common import ProgressFn, report
from tools.litho.simulator import CORNERS, THRESHOLD
from tools.opc.configs import ILTConfig

__all__ = ("ILTResult", "optimize_pixels")


@dataclass
class ILTResult:
    """Final binary mask (N, N) float32, loss history and the kept iteration."""

    mask: np.ndarray
    history: list[dict[str, float]]
    best_iteration: int


def optimize_pixels(target: np.ndarray, sim: Any, config: ILTConfig, progress: ProgressFn | None = None) -> ILTResult:
    """Run SimpleILT-style pixel optimisation of the mask for ``target`` on ``sim``.

    Args:
        target: (N, N) {0, 1} target raster.
        sim: a ``tools.litho.simulator.LithoSim`` of size N.
        config: optimiser settings.
        progress: optional progress callback.

    Returns:
        The binarised best mask and the per-iteration loss, L2 and PV band (binary, full resolution).
    """
    device = torch.device(sim.device)
    tgt = torch.as_tensor(target, dtype=sim.dtype, device=device)
    initial = 2.0 * tgt - 1.0
    window = torch.zeros_like(tgt)
    a, b = config.window_offset, config.window_offset + config.window_size
    window[a:b, a:b] = 1.0
    frozen = torch.sigmoid(config.mask_steepness * initial) * (1.0 - window)
    params = initial.clone().requires_grad_(True)
    history: list[dict[str, float]] = []
    best_loss, best_mask, best_it = float("inf"), None, -1
    for it in range(config.iterations):
        mask = torch.sigmoid(config.mask_steepness * params) * window + frozen
        spec = sim.mask_spectrum(mask)
        aerial = {c: sim.intensity_from_spectrum(spec, c) for c in CORNERS}
        nom, pmax, pmin = (sim.print_image(aerial[c]) for c in ("nominal", "max", "min"))
        l2 = (nom - tgt).square().sum()
        pvbl2 = (pmax - tgt).square().sum() + (pmin - tgt).square().sum()
        loss = l2 + config.weight_pvbl2 * pvbl2 + config.weight_pvband * (pmax - pmin).square().sum()
        with torch.no_grad():
            binary_l2 = float(((aerial["nominal"] >= THRESHOLD).to(tgt.dtype) - tgt).abs().sum())
            pvb = float(((aerial["max"] >= THRESHOLD) != (aerial["min"] >= THRESHOLD)).sum())
        history.append({"iteration": it, "loss": float(loss.detach()), "l2": binary_l2, "pvb": pvb})
        if float(loss.detach()) < best_loss:
            best_loss, best_mask, best_it = float(loss.detach()), mask.detach().clone(), it
        (grad,) = torch.autograd.grad(loss, params)
        with torch.no_grad():
            params.sub_(config.step_size * grad)  # plain SGD, as OpenILT's optim.SGD without momentum
        report(progress, f"ilt iteration {it + 1}/{config.iterations}: L2~{binary_l2:.0f} PVB~{pvb:.0f}", (it + 1) / config.iterations)
    if best_mask is None:
        best_mask = torch.sigmoid(config.mask_steepness * initial)
    binary = (best_mask >= 0.5).to(torch.float32).cpu().numpy()
    return ILTResult(mask=binary, history=history, best_iteration=best_it)

