"""Lithography engine shared by every OPC method: layouts, rasterisation, SOCS imaging, contest metrics.

See ``tools/litho/README.md`` for the conventions (placement, rasterisation, FFT normalisation, corners).
"""

from tools.litho.clips import Clip, list_clips, load_clip
from tools.litho.evaluate_tool import LithoEvaluateArgs, LithoEvaluateResult, run_litho_evaluate
from tools.litho.kernels import KernelSet, kernels_from_optics, load_iccad13_kernels
from tools.litho.layout import Layout, mask_to_rects, polygon_to_rects, read_gds, read_glp, write_gds
from tools.litho.metrics import MaskMetrics, MRCReport, epe, evaluate_mask, l2, mrc_check, pv_band, shot_count
from tools.litho.raster import rasterize
from tools.litho.simulate_tool import LithoSimulateArgs, LithoSimulateResult, run_litho_simulate
from tools.litho.simulator import CORNERS, THRESHOLD, LithoSim

__all__ = (
    "Clip",
    "list_clips",
    "load_clip",
    "Layout",
    "read_glp",
    "read_gds",
    "write_gds",
    "polygon_to_rects",
    "mask_to_rects",
    "rasterize",
    "KernelSet",
    "load_iccad13_kernels",
    "kernels_from_optics",
    "LithoSim",
    "CORNERS",
    "THRESHOLD",
    "MaskMetrics",
    "MRCReport",
    "l2",
    "pv_band",
    "epe",
    "shot_count",
    "mrc_check",
    "evaluate_mask",
    "LithoSimulateArgs",
    "LithoSimulateResult",
    "run_litho_simulate",
    "LithoEvaluateArgs",
    "LithoEvaluateResult",
    "run_litho_evaluate",
)
