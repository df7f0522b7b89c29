"""Benchmark of the MixPE tools: the performance model against the authors' simulator, and the GEMM check.

Run: ``chipcrew bench mixpe [--out DIR]`` (a few seconds on a CPU). Prints two tables and
writes a JSON with every number:

1. time and energy normalised to FP16 for the four models, next to the MixPE simulator's own output
   (github.com/yuzhang712/mixpe_simulator, ``results/mixpe_res.csv``, last block: the run with ANT), and
   the geometric-mean speedup / energy reduction of MixPE-W4A8 over each baseline, next to the paper's
   headline (arXiv 2411.16158 abstract: 2.6x speedup, 1.4x energy reduction over state-of-the-art
   quantisation accelerators);
2. the functional GEMM model on a sweep of shapes: errors against ``torch.matmul``, the dequantisation
   saving, and wall time.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

from tools.mixpe.gemm import MixPEGemmArgs, run_mixpe_gemm
from tools.mixpe.perf import MixPEPerfArgs, run_mixpe_perf
from tools.mixpe.transformer_shapes import MODEL_NAMES

NAME = "mixpe"
DESCRIPTION = "MixPE: perf/energy model vs the authors' simulator, and the bit-exact GEMM check"

__all__ = ("NAME", "DESCRIPTION", "run_bench", "to_markdown", "SIMULATOR", "PAPER_HEADLINE", "bench_perf", "bench_gemm")

_ORDER = ("MixPE-A8", "ANT", "BitFusion", "INT8", "MixPE-A16", "FP16")
SIMULATOR: dict[str, dict[str, dict[str, tuple[float, ...]]]] = {
    # results/mixpe_res.csv, last block; columns in _ORDER (MixPE-W4A8, ANT, BitFusion, INT8, MixPE-W4A16, FP16);
    # energy parts are fractions of FP16's total energy
    "ViT-Base": {
        "time": (0.15, 0.61, 0.70, 0.82, 0.53, 1.00),
        "static": (0.04, 0.15, 0.17, 0.20, 0.13, 0.24),
        "dram": (0.02, 0.03, 0.04, 0.05, 0.05, 0.07),
        "buffer": (0.09, 0.10, 0.12, 0.12, 0.17, 0.23),
        "core": (0.11, 0.11, 0.15, 0.14, 0.18, 0.46),
    },
    "ViT-Huge": {
        "time": (0.12, 0.47, 0.67, 0.82, 0.32, 1.00),
        "static": (0.03, 0.11, 0.15, 0.19, 0.07, 0.23),
        "dram": (0.01, 0.03, 0.03, 0.07, 0.03, 0.12),
        "buffer": (0.06, 0.08, 0.11, 0.11, 0.12, 0.23),
        "core": (0.08, 0.08, 0.14, 0.13, 0.10, 0.43),
    },
    "OPT-6.7B": {
        "time": (0.10, 0.40, 0.68, 0.86, 0.19, 1.00),
        "static": (0.02, 0.09, 0.15, 0.19, 0.04, 0.22),
        "dram": (0.01, 0.03, 0.03, 0.05, 0.02, 0.13),
        "buffer": (0.05, 0.07, 0.11, 0.11, 0.10, 0.23),
        "core": (0.06, 0.06, 0.14, 0.14, 0.06, 0.42),
    },
    "LLaMA-2-13B": {
        "time": (0.10, 0.40, 0.68, 0.86, 0.19, 1.00),
        "static": (0.02, 0.09, 0.15, 0.19, 0.04, 0.22),
        "dram": (0.01, 0.03, 0.03, 0.06, 0.02, 0.13),
        "buffer": (0.05, 0.07, 0.11, 0.12, 0.10, 0.23),
        "core": (0.06, 0.06, 0.14, 0.14, 0.06, 0.42),
    },
}
PAPER_HEADLINE = {"speedup": 2.6, "energy_reduction": 1.4}
GEMM_SHAPES = ((256, 512, 128), (64, 4096, 256), (1, 5120, 512), (512, 1024, 512))


def _simulator(model: str, design: str) -> tuple[float, float]:
    """(time, total energy) / FP16 from the simulator's output."""
    col = _ORDER.index(design)
    sim = SIMULATOR[model]
    return sim["time"][col], sum(sim[p][col] for p in ("static", "dram", "buffer", "core"))


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def bench_perf(out: Path) -> dict:
    """Normalised time and energy per model and design, ours and the simulator's, plus geomean ratios."""
    rows, per_model = [], {}
    for model in MODEL_NAMES:
        r = run_mixpe_perf(MixPEPerfArgs(model=model, plot=False, out_dir=str(out / model)))
        per_model[model] = {d.design: d for d in r.designs}
        for design in _ORDER:
            d = per_model[model][design]
            sim_t, sim_e = _simulator(model, design)
            rows.append(
                {"model": model, "design": d.label, "time": d.norm_time, "sim_time": sim_t,
                 "energy": d.norm_energy["total"], "sim_energy": sim_e, "seconds": r.seconds}
            )
    ratios = {}
    for base in _ORDER[1:]:
        speed = _geomean([per_model[m][base].time_ms / per_model[m]["MixPE-A8"].time_ms for m in MODEL_NAMES])
        energy = _geomean(
            [per_model[m][base].energy_mj["total"] / per_model[m]["MixPE-A8"].energy_mj["total"] for m in MODEL_NAMES]
        )
        sim_speed = _geomean([_simulator(m, base)[0] / _simulator(m, "MixPE-A8")[0] for m in MODEL_NAMES])
        sim_energy = _geomean([_simulator(m, base)[1] / _simulator(m, "MixPE-A8")[1] for m in MODEL_NAMES])
        ratios[base] = {
            "speedup": speed, "energy_reduction": energy, "sim_speedup": sim_speed, "sim_energy_reduction": sim_energy
        }
    return {"rows": rows, "mixpe_w4a8_over": ratios, "paper_headline": PAPER_HEADLINE}


def bench_gemm() -> list[dict]:
    """The functional check on a few shapes, both activation formats."""
    out = []
    for m, k, n in GEMM_SHAPES:
        for activation in ("int8", "fp16"):
            start = time.perf_counter()
            r = run_mixpe_gemm(MixPEGemmArgs(m=m, k=k, n=n, activation=activation))
            out.append(
                {"shape": f"{m}x{k}x{n}", "activation": activation, "passed": r.passed,
                 "rel_error_conventional": r.max_rel_error["conventional"], "rel_error_mixpe": r.max_rel_error["mixpe"],
                 "dequant_saving": r.dequant_saving, "seconds": time.perf_counter() - start}
            )
    return out


def run_bench(out_dir: Path, quick: bool = False, progress: Callable[[str, float], None] | None = None) -> dict:
    """The benchmark protocol of ``chipcrew bench`` (the full run takes seconds, so quick changes nothing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if progress:
        progress("mixpe perf model", 0.0)
    result = {"perf": bench_perf(out_dir), "gemm": bench_gemm()}
    (out_dir / "bench_mixpe.json").write_text(json.dumps(result, indent=2))
    if progress:
        progress("mixpe", 1.0)
    return result


def to_markdown(result: dict) -> str:
    """Ours next to the MixPE simulator's output and the paper's headline."""
    perf, gemm = result["perf"], result["gemm"]
    lines = ["Time and energy normalised to FP16 (ours | MixPE simulator)", "",
             "| model | design | time | sim time | energy | sim energy |", "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['design']} | {r['time']:.3f} | {r['sim_time']:.2f} | {r['energy']:.3f} | "
              f"{r['sim_energy']:.2f} |" for r in perf["rows"]]
    lines += ["", "MixPE-W4A8 over each baseline, geomean of the four models", "",
              "| baseline | speedup | sim speedup | energy reduction | sim energy reduction |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {b} | {v['speedup']:.2f} | {v['sim_speedup']:.2f} | {v['energy_reduction']:.2f} | "
              f"{v['sim_energy_reduction']:.2f} |" for b, v in perf["mixpe_w4a8_over"].items()]
    paper = perf["paper_headline"]
    lines += ["", f"Paper abstract: {paper['speedup']}x speedup, {paper['energy_reduction']}x energy reduction.", "",
              "| GEMM | activation | passed | rel err conventional | rel err MixPE | dequant saving |",
              "|---|---|---|---:|---:|---:|"]
    lines += [f"| {r['shape']} | {r['activation']} | {r['passed']} | {r['rel_error_conventional']:.2e} | "
              f"{r['rel_error_mixpe']:.2e} | {r['dequant_saving']:.0f}x |" for r in gemm]
    return "\n".join(lines)
