"""Rule-based model-based OPC baseline: EPE-feedback segment moves (in the manner of OpenILT ``pyilt/simpleopc.py``).

Classic model-based OPC (Cobb, PhD thesis, UC Berkeley 1998, ch. 5): simulate the nominal print of the
current mask, measure at every segment's check point how far the printed edge lies from the target edge
along the outward normal (the edge placement error), move the segment against it by a fraction of the
error, repeat; keep the iterate with the smallest L2. OpenILT's SimpleOPC moves by fixed steps of 8 nm
halved every 4 rounds; here the move is ``gain * EPE`` (the proportional form) clipped to that decaying step,
which keeps the strongly coupled corner and line-end pieces from overshooting. The moves share DiffOPC's fragmentation, bounds and jog merging, so the output passes the
same mask-rule check.

Three recipe options, all off by default (the plain run is unchanged bit for bit):

* process-window-aware feedback (``pw_weight`` w > 0, the process-window OPC of production flows): the error fed back is ``(1 - w) * EPE_nominal + w * (EPE_max + EPE_min) / 2``, the edge
  driven towards the middle of its dose/focus corners' positions, and the iterate kept is the one with the
  smallest L2 + PV band (both measured each round, since the corner images are simulated anyway);
* fixed assist features (``assist``, e.g. ``tools.opc.sraf``'s bars): added to the mask in every simulation
  and to the output, with ``upper_nm`` keeping the moved edges clear of them;
* corner treatments (``corner_nm``, ``tools.opc.serifs``): serif and mousebite squares at the moved vertices,
  part of the mask in every simulation and in the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tools.common import ProgressFn, report
from tools.litho.layout import mask_to_rects
from tools.litho.metrics import pv_band
from tools.litho.simulator import THRESHOLD
from tools.opc.diffopc import EdgeOPCResult
from tools.opc.configs import MBOPCConfig
from tools.opc.legalize import merge_jogs, move_bounds
from tools.opc.segments import SegmentSet, moved_polygons
from tools.opc.spectrum import EdgeMask

__all__ = ("optimize_mbopc", "measure_epe")


def measure_epe(intensity: np.ndarray, segs: SegmentSet, search_nm: int) -> np.ndarray:
    """Signed distance from each segment's target edge to the printed edge at its midpoint.

    Pixel ``k`` is read as the image at its centre ``k + 1/2`` (the metrics compare pixel ``k`` of print and
    target); the printed edge is the threshold crossing, linearly interpolated, nearest to the target edge.

    Args:
        intensity: (N, N) nominal aerial image.
        segs: the segments (their ``pos`` is the target edge).
        search_nm: search half-width along the normal. In nm.

    Returns:
        (S,) EPE in nm, positive where the print extends beyond the target edge; +-``search_nm`` when the
        print does not cross the threshold inside the search window.
    """
    n = intensity.shape[0]
    t = np.arange(-search_nm, search_nm) + 0.5  # (W,) distances of pixel centres from the edge, outward
    normal = segs.normal.astype(np.float64)[:, None]
    across = segs.pos[:, None] + normal * t[None, :] - 0.5  # (S, W) pixel index along the normal
    along = np.repeat(((segs.lo + segs.hi) // 2)[:, None], t.size, axis=1)
    across = np.clip(np.rint(across).astype(np.int64), 0, n - 1)
    rows = np.where(segs.axis[:, None] == 0, along, across)
    cols = np.where(segs.axis[:, None] == 0, across, along)
    profile = intensity[rows, cols] - THRESHOLD  # (S, W), decreasing outward where the print ends
    falling = (profile[:, :-1] >= 0) & (profile[:, 1:] < 0)
    frac = profile[:, :-1] / np.where(falling, profile[:, :-1] - profile[:, 1:], 1.0)
    where = t[None, :-1] + frac  # crossing position for each falling pair
    dist = np.where(falling, np.abs(where), np.inf)
    pick = dist.argmin(axis=1)
    found = np.isfinite(dist[np.arange(len(segs)), pick])
    epe = where[np.arange(len(segs)), pick]
    inside_on = profile[:, search_nm - 1] >= 0  # pixel just inside the target edge prints
    fallback = np.where(inside_on, float(search_nm), -float(search_nm))
    return np.where(found, epe, fallback)


def optimize_mbopc(
    model: EdgeMask,
    target: np.ndarray,
    sim: Any,
    config: MBOPCConfig,
    progress: ProgressFn | None = None,
    *,
    start_nm: np.ndarray | None = None,
    epe_target_nm: np.ndarray | None = None,
    gain_scale: np.ndarray | None = None,
    pw_weight: float = 0.0,
    assist: np.ndarray | None = None,
    upper_nm: np.ndarray | None = None,
    corner_nm: np.ndarray | None = None,
) -> EdgeOPCResult:
    """Iterate simulate -> measure EPE -> move segments by ``-gain * (EPE - EPE target)`` (rounded, bounded).

    The per-segment arrays are what an OPC recipe sets per topology class (``tools.opc.recipe``); left at
    None the run is the plain baseline, bit for bit.

    Args:
        model: mask model of the fragmented target (its bias fixes the raster convention).
        target: (N, N) {0, 1} target raster in the same convention.
        sim: a ``tools.litho.simulator.LithoSim``.
        config: settings.
        progress: optional progress callback.
        start_nm: (S,) initial outward moves (a per-segment bias), rounded and clipped to the move bounds;
            None = start from the target. In nm.
        epe_target_nm: (S,) EPE each segment is driven to (positive: print beyond the target edge); None = 0.
            In nm.
        gain_scale: (S,) factors on ``config.gain`` per segment; None = 1.
        pw_weight: weight of the dose/focus corners in the fed-back EPE, 0..1 (module docstring); 0 = nominal
            only, and the iterate kept is the smallest-L2 one.
        assist: (N, N) bool raster of fixed assist features added to the mask; None = none.
        upper_nm: (S,) extra cap on the outward moves (clear of the assist features); None = none. In nm.
        corner_nm: (C,) serif/mousebite half-size per vertex (``tools.opc.serifs.corner_sizes``); None = none.
            In nm.
    """
    segs = model.segs
    device = torch.device(sim.device)
    lower, upper = move_bounds(segs, config.rules)
    if upper_nm is not None:
        upper = np.maximum(np.minimum(upper, np.asarray(upper_nm, dtype=np.int64)), 0)
    assist_spec = None
    if assist is not None and assist.any():
        with torch.no_grad():
            assist_spec = sim.mask_spectrum(torch.from_numpy(assist.astype(np.float32)).to(device))
    offsets = np.zeros(len(segs), dtype=np.int64)
    if start_nm is not None:
        offsets = np.clip(np.rint(start_nm), lower, upper).astype(np.int64)
    gain = config.gain if gain_scale is None else config.gain * np.asarray(gain_scale, dtype=np.float64)
    history: list[dict[str, Any]] = []
    best = (float("inf"), offsets.copy(), -1)
    for it in range(config.iterations):
        with torch.no_grad():
            moves = torch.as_tensor(offsets, dtype=torch.float64, device=device)
            spec = model.spectrum(moves, half=sim.half, corner_nm=corner_nm).to(sim.cdtype)
            if assist_spec is not None:
                spec = spec + assist_spec.to(spec.dtype)
            aerial = sim.intensity_from_spectrum(spec, "nominal").cpu().numpy()
            corners = None
            if pw_weight > 0:
                corners = [sim.intensity_from_spectrum(spec, c).cpu().numpy() for c in ("max", "min")]
        l2 = float(np.count_nonzero((aerial >= THRESHOLD) != (target >= 0.5)))
        epe = measure_epe(aerial, segs, config.search_nm)
        history.append({"iteration": it, "l2": l2, "mean_abs_epe": float(np.abs(epe).mean())})
        score = l2
        if corners is not None:
            pvb = float(pv_band(corners[0] >= THRESHOLD, corners[1] >= THRESHOLD))
            history[-1]["pvb"] = pvb
            score = l2 + pvb
            mid = 0.5 * (measure_epe(corners[0], segs, config.search_nm) + measure_epe(corners[1], segs, config.search_nm))
            epe = (1.0 - pw_weight) * epe + pw_weight * mid
        if score < best[0]:
            best = (score, offsets.copy(), it)
        limit = config.max_step_nm * 0.5 ** (it // config.decay_every)
        error = epe if epe_target_nm is None else epe - epe_target_nm
        step = np.clip(-gain * error, -limit, limit)
        offsets = np.clip(np.rint(offsets + step), lower, upper).astype(np.int64)
        report(progress, f"mbopc iteration {it + 1}/{config.iterations}: L2 {l2:.0f}", (it + 1) / config.iterations)
    final = merge_jogs(segs, best[1], lower, upper, config.jog_merge_nm)
    if corner_nm is not None and np.any(corner_nm):
        mask = np.clip(model.raster(final, corner_nm), 0.0, 1.0)  # the written mask, whatever the terms summed to
        polygons = _rect_polygons(mask)
    else:
        mask, polygons = model.raster(final), moved_polygons(segs, final + model.bias)
    if assist_spec is not None:
        mask = np.maximum(mask, assist.astype(mask.dtype))
        polygons += _rect_polygons(assist)
    return EdgeOPCResult(
        segments=segs,
        offsets=final,
        mask=mask,
        polygons=polygons,
        history=history,
        best_iteration=best[2],
    )


def _rect_polygons(raster: np.ndarray) -> list[np.ndarray]:
    """The raster's mask-writer rectangles (``mask_to_rects``, pixels >= 0.5 on) as 4-vertex polygons."""
    return [np.asarray([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.int64) for x0, y0, x1, y1 in mask_to_rects(raster)]
