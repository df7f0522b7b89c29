"""Settings of the three OPC methods (DiffOPC, pixel ILT, EPE-feedback OPC) as plain frozen dataclasses, and the
layers a CAMO policy is trained for.

They live apart from the torch optimisers so that the optimisation tool can read their defaults (and show
them in its argument schema) without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from tools.opc.legalize import MaskRules

__all__ = ("DiffOPCConfig", "ILTConfig", "MBOPCConfig", "CamoLayer", "CAMO_LAYERS", "CAMO_W_EPE", "camo_cost")

CamoLayer = Literal["metal", "via"]
"""The layers CAMO has a training split and a packaged checkpoint for (``chipcrew train camo --layer``)."""
CAMO_LAYERS: tuple[str, ...] = get_args(CamoLayer)
CAMO_W_EPE = 1000.0
"""Cost of one EPE violation in CAMO's cost, nm^2 (about a 60 nm segment 15 nm off target)."""


def camo_cost(l2: float, pvb: float, epe: float) -> float:
    """CAMO's cost J = L2 + PVB + CAMO_W_EPE * EPE (its reward and the OPC benchmark's cost column)."""
    return l2 + pvb + CAMO_W_EPE * epe


@dataclass(frozen=True)
class DiffOPCConfig:
    """Settings of the DiffOPC optimiser.

    Attributes:
        iterations: Adam steps in total (all grids together).
        step_nm: Adam learning rate, i.e. the largest move per step. In nm.
        weight_corner: weight of the max/min-corner print errors (DiffOPC ``WeightPVBL2: 0.9``).
        weight_pvb: weight of the squared difference between max and min prints (the PV band).
        weight_epe: weight of the EPE hinge, a sum over probes of squared shortfalls in units of ``tools.opc.diffopc.EPE_SLOPE``
            (about nm of edge), so comparable with the nm^2 print terms.
        grids: multi-resolution schedule ``(out_size, fraction of the iterations)``; fractions add up to 1.
        jog_merge_nm: pieces of one edge whose rounded moves differ by at most this share one move. In nm.
        rules: mask rules for the move bounds.

    The step and the weights were tuned on the ten ICCAD13 clips (exact raster) against the targets
    EPE <= 2, L2 <= 37,000, PV band <= 50,000 on average; the loss is flat after ~120 steps of 3 nm.
    """

    iterations: int = 200
    step_nm: float = 3.0
    weight_corner: float = 0.9
    weight_pvb: float = 8.0
    weight_epe: float = 400.0
    grids: tuple[tuple[int, float], ...] = ((256, 0.5), (512, 0.5))
    jog_merge_nm: int = 2
    rules: MaskRules = field(default_factory=MaskRules)


@dataclass(frozen=True)
class ILTConfig:
    """Settings of the pixel ILT baseline (defaults: OpenILT ``config/simpleilt2048.txt``).

    Attributes:
        iterations: SGD steps.
        step_size: SGD learning rate on the pixel parameters.
        mask_steepness: ``SigmoidSteepness`` of the mask parameterisation.
        weight_pvbl2: weight of the max/min-corner print errors (``WeightPVBL2``).
        weight_pvband: weight of the squared max-min print difference (``WeightPVBand``).
        window_offset: first optimised row/column. In px.
        window_size: side of the optimised window. In px.
    """

    iterations: int = 20
    step_size: float = 0.5
    mask_steepness: float = 4.0
    weight_pvbl2: float = 1.0
    weight_pvband: float = 0.0
    window_offset: int = 512
    window_size: int = 1024


@dataclass(frozen=True)
class MBOPCConfig:
    """Settings of the EPE-feedback OPC baseline.

    Attributes:
        iterations: simulate-measure-move rounds.
        gain: fraction of the measured EPE corrected per round (0 < gain <= 1).
        max_step_nm: largest move per round; halved every ``decay_every`` rounds (SimpleOPC: 8 nm, 4). In nm.
        decay_every: rounds between halvings of ``max_step_nm``.
        search_nm: how far along the normal the printed edge is searched, each side. In nm.
        jog_merge_nm: see ``tools.opc.legalize.merge_jogs``. In nm.
        rules: mask rules for the move bounds.
    """

    iterations: int = 12
    gain: float = 0.5
    max_step_nm: float = 8.0
    decay_every: int = 4
    search_nm: int = 40
    jog_merge_nm: int = 2
    rules: MaskRules = field(default_factory=MaskRules)
