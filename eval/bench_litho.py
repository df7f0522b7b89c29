"""Benchmark of the lithography engine: band-limited SOCS against the direct 24-FFT computation.

Measures, on one clip with mask = target:
* exactness: max |I_fast - I_direct| / max I_direct at full resolution (float32, and float64 unless skipped);
* speed: the nominal aerial image by both methods (median of repeats), plus the pieces an optimisation loop
  pays for (mask spectrum, intensity at 512, forward + backward of a 512 loss, three corners at 2048);
* sanity: L2 / PV band of the unoptimised print against the values in shared/data/iccad13/README.md.

Run:  chipcrew bench litho [--clip M1_test1] [--repeats 5] [--out DIR]
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from tools.common import package_versions
from tools.litho.clips import load_clip
from tools.litho.metrics import l2, pv_band
from tools.litho.raster import rasterize
from tools.litho.simulate_tool import sync
from tools.litho.simulator import THRESHOLD, LithoSim, resolve_device

# Mask = target, case 1 (shared/data/iccad13/README.md, numpy re-implementation there; not published numbers).
NAME = "litho"
DESCRIPTION = "Lithography engine: band-limited SOCS vs 24 direct FFTs (exactness, speed, sanity L2/PVB)"

README_SANITY = {"M1_test1": {"exact": (116661, 42918), "inclusive": (116184, 45874)}}


def _median_seconds(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls after one warm-up call."""
    fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _exactness(clip: str, dtype: torch.dtype, device: torch.device) -> float:
    sim = LithoSim(device=device, dtype=dtype)
    mask = torch.from_numpy(rasterize(load_clip(clip).layout)).to(device)
    with torch.no_grad():
        fast, direct = sim.intensity(mask), sim.intensity_direct(mask)
    return float((fast - direct).abs().max() / direct.abs().max())


def run(clip: str, repeats: int, device: torch.device, float64: bool) -> dict[str, object]:
    """All measurements as a JSON-ready dict."""
    start = time.perf_counter()
    sim = LithoSim(device=device)
    setup = time.perf_counter() - start
    layout = load_clip(clip).layout
    mask = torch.from_numpy(rasterize(layout)).to(device)
    timings: dict[str, float] = {"setup (load kernels, build engine)": setup}
    with torch.no_grad():
        spec = sim.mask_spectrum(mask)
        timings["fast: nominal intensity 2048"] = _median_seconds(lambda: sim.intensity(mask), repeats, device)
        timings["direct: nominal intensity 2048 (24 FFTs)"] = _median_seconds(
            lambda: sim.intensity_direct(mask), max(1, repeats // 3), device
        )
        timings["mask spectrum 35x35 (DFT matrices)"] = _median_seconds(
            lambda: sim.mask_spectrum(mask), repeats, device
        )
        timings["intensity from spectrum, out 512"] = _median_seconds(
            lambda: sim.intensity_from_spectrum(spec, out_size=512), repeats, device
        )
        timings["three corners 2048"] = _median_seconds(lambda: sim.simulate(mask), repeats, device)

    target512 = mask[::4, ::4]
    param = torch.zeros_like(mask, requires_grad=True)

    def loss_step() -> None:
        image = sim.print_image(sim.intensity(torch.sigmoid(4.0 * (param + mask - 0.5)), out_size=512))
        ((image - target512) ** 2).sum().backward()

    timings["forward+backward, loss at 512"] = _median_seconds(loss_step, repeats, device)

    exact = {"float32": _exactness(clip, torch.float32, device)}
    if float64:
        exact["float64"] = _exactness(clip, torch.float64, device)

    sanity = {}
    for convention in ("exact", "inclusive"):
        target = rasterize(layout, convention=convention)
        with torch.no_grad():
            images = sim.simulate(torch.from_numpy(target).to(device))
        prints = {k: (v >= THRESHOLD).cpu().numpy() for k, v in images.items()}
        got = (l2(prints["nominal"], target), pv_band(prints["max"], prints["min"]))
        sanity[convention] = {"l2": got[0], "pvb": got[1], "readme": README_SANITY.get(clip, {}).get(convention)}

    fast = timings["fast: nominal intensity 2048"]
    direct = timings["direct: nominal intensity 2048 (24 FFTs)"]
    return {
        "clip": clip,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "repeats": repeats,
        "timings_s": timings,
        "speedup_fast_vs_direct": direct / fast,
        "max_rel_diff_fast_vs_direct": exact,
        "sanity_mask_eq_target": sanity,
        "versions": package_versions("torch", "numpy"),
    }


def to_markdown(res: dict[str, Any]) -> str:
    """The measurements as a markdown table."""
    lines = [
        f"clip {res['clip']} on {res['device']} ({res['threads']} threads), median of {res['repeats']}",
        "",
        "| measurement | value |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {sec:.4f} s |" for name, sec in res["timings_s"].items()]
    lines.append(f"| speed-up fast vs direct | {res['speedup_fast_vs_direct']:.1f}x |")
    lines += [f"| max rel. diff fast vs direct, {k} | {v:.2e} |" for k, v in res["max_rel_diff_fast_vs_direct"].items()]
    for conv, s in res["sanity_mask_eq_target"].items():
        lines.append(f"| L2 / PVB mask=target, {conv} raster | {s['l2']} / {s['pvb']} (README {s['readme']}) |")
    return "\n".join(lines)


def run_bench(
    out_dir: Path,
    quick: bool = False,
    progress: Callable[[str, float], None] | None = None,
    clip: str = "M1_test1",
    repeats: int | None = None,
    device: str = "auto",
    threads: int | None = None,
    float64: bool | None = None,
) -> dict[str, Any]:
    """The benchmark protocol of ``chipcrew bench``: quick = 2 repeats and no float64 check (unless asked).

    Args:
        threads: torch CPU threads for the run (the dev machine has 2 cores); default: torch's own.
    """
    if progress:
        progress("litho engine", 0.0)
    if threads is not None:
        torch.set_num_threads(threads)
    res = run(clip, repeats or (2 if quick else 5), resolve_device(device), not quick if float64 is None else float64)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench_litho.json").write_text(json.dumps(res, indent=2) + "\n")
    if progress:
        progress("litho engine", 1.0)
    return res
