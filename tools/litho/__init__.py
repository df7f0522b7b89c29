"""Lithography engine shared by every OPC method: layouts, rasterisation, SOCS imaging, contest metrics.

See ``tools/litho/README.md`` for the conventions (placement, rasterisation, FFT normalisation, corners).
"""

from tools._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "clips": ("Clip", "list_clips", "load_clip"),
        "layout": ("Layout", "read_glp", "read_gds", "write_gds", "polygon_to_rects", "mask_to_rects"),
        "raster": ("rasterize",),
        "kernels": ("KernelSet", "load_iccad13_kernels", "kernels_from_optics"),
        "simulator": ("LithoSim", "CORNERS", "THRESHOLD"),
        "metrics": ("MaskMetrics", "MRCReport", "l2", "pv_band", "epe", "shot_count", "mrc_check", "evaluate_mask"),
        "simulate_tool": ("LithoSimulateArgs", "LithoSimulateResult", "run_litho_simulate"),
        "evaluate_tool": ("LithoEvaluateArgs", "LithoEvaluateResult", "run_litho_evaluate"),
    },
)
