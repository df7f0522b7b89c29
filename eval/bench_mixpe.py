"""Benchmark of the MixPE tools: the performance model against the authors' simulator, and the GEMM check.

Run: ``chipcrew bench mixpe [--out DIR]`` (a few seconds on a CPU). Prints four tables and
writes a JSON with every number:

1. time and energy normalised to FP16 for the four models, next to the MixPE simulator's own output
   (github.com/yuzhang712/mixpe_simulator, ``results/mixpe_res.csv``, last block: the run with ANT). Ours runs
   twice: on the simulator's workload, operand widths and dataflow (``convention="simulator"``: batch 64 of one
   token, ViT's patch embedding, MixPE's activations at the weight width, output-stationary arrays), which
   checks the model (every time within 10 %), and on our own
   (every block runs all tokens of a prefill, MixPE at its real activation width). A gap over 10 % names
   the modelling difference in the ``why`` column;
2. the geometric-mean speedup / energy reduction of MixPE-W4A8 over each baseline, ours and the simulator's,
   next to the paper's headline (arXiv 2411.16158 abstract: 2.6x speedup, 1.4x energy reduction over
   state-of-the-art quantisation accelerators);
3. prefill (2048 tokens) beside decode (one token, a memory-bound GEMV), on the iso-area arrays and with every
   design at 32x32 PEs, the speedup split into PE count x packing x dequantisation x the rest;
4. the functional GEMM model on a sweep of shapes: errors against ``torch.matmul``, the dequantisation
   saving, and wall time.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

from tools.mixpe.gemm import MixPEGemmArgs, run_mixpe_gemm
from tools.mixpe.perf import ENERGY_PARTS, MixPEPerfArgs, run_mixpe_perf
from tools.mixpe.transformer_shapes import MODEL_NAMES

NAME = "mixpe"
DESCRIPTION = "MixPE: perf/energy model vs the authors' simulator, and the bit-exact GEMM check"

__all__ = (
    "NAME",
    "DESCRIPTION",
    "run_bench",
    "to_markdown",
    "SIMULATOR",
    "PAPER_HEADLINE",
    "bench_perf",
    "bench_phases",
    "bench_gemm",
)

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
SIMULATOR_BATCH = 64  # run_mix.py: batch_size = 64
TOLERANCE = 0.10
PHASE_MODELS = ("OPT-6.7B", "LLaMA-2-13B")
PHASE_BASELINES = ("INT8", "FP16", "ANT")
GEMM_SHAPES = ((256, 512, 128), (64, 4096, 256), (1, 5120, 512), (512, 1024, 512))


def _simulator(model: str, design: str) -> tuple[float, float]:
    """(time, total energy) / FP16 from the simulator's output."""
    col = _ORDER.index(design)
    sim = SIMULATOR[model]
    return sim["time"][col], sum(sim[p][col] for p in ("static", "dram", "buffer", "core"))


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _runs(out: Path, convention: str) -> dict[str, dict[str, object]]:
    batch = SIMULATOR_BATCH if convention == "simulator" else 1
    per_model = {}
    for model in MODEL_NAMES:
        args = MixPEPerfArgs(model=model, plot=False, convention=convention, batch=batch,
                             out_dir=str(out / convention / model))
        per_model[model] = {d.design: d for d in run_mixpe_perf(args).designs}
    return per_model


def _gap(ours: float, sim: float) -> float:
    return ours / sim - 1.0


def _why(model: str, design: str, own_gap: float, sim_gap: float, parts: dict[str, tuple[float, float]]) -> str:
    """The modelling difference behind a gap over ``TOLERANCE`` (empty when both gaps are within it).

    ``parts``: energy part -> (ours on the simulator's workload, simulator), both as fractions of FP16's total.
    """
    reasons = []
    if abs(own_gap) > TOLERANCE:
        if model.startswith("ViT"):
            reasons.append("workload: the simulator's ViT sends ONE token per image through the blocks, plus the "
                           "unquantised patch embedding over 196 patches; ours all tokens through every block")
        else:
            reasons.append("workload: the simulator runs batch 64 x 1 token (M = 64); ours a 2048-token prefill")
        if design.startswith("MixPE"):
            reasons.append("the simulator runs MixPE's activations at the weight width (W4A8 as 4x4, W4A16 as "
                           "8x8: twice our MACs per PE)")
    if abs(sim_gap) > TOLERANCE:
        part, (ours, sim) = max(parts.items(), key=lambda kv: abs(kv[1][0] - kv[1][1]))
        reasons.append(f"energy split on the simulator's own workload, not traced further: {part} {ours:.2f} vs the "
                       f"simulator's {sim:.2f} of FP16's energy")
    return "; ".join(reasons)


def bench_perf(out: Path) -> dict:
    """Normalised time and energy per model and design, ours (both conventions) and the simulator's, plus geomeans."""
    own, sim_conv = _runs(out, "ours"), _runs(out, "simulator")
    rows = []
    for model in MODEL_NAMES:
        for design in _ORDER:
            d, s = own[model][design], sim_conv[model][design]
            sim_t, sim_e = _simulator(model, design)
            own_gap = max(_gap(d.norm_time, sim_t), _gap(d.norm_energy["total"], sim_e), key=abs)
            sim_gap = max(_gap(s.norm_time, sim_t), _gap(s.norm_energy["total"], sim_e), key=abs)
            rows.append(
                {"model": model, "design": d.label, "sim_time": sim_t, "time_simwl": s.norm_time, "time": d.norm_time,
                 "sim_energy": sim_e, "energy_simwl": s.norm_energy["total"], "energy": d.norm_energy["total"],
                 "time_gap_simwl": _gap(s.norm_time, sim_t), "time_gap": _gap(d.norm_time, sim_t),
                 "energy_gap_simwl": _gap(s.norm_energy["total"], sim_e), "energy_gap": _gap(d.norm_energy["total"], sim_e),
                 "why": _why(model, design, own_gap, sim_gap, {
                     p: (s.norm_energy[p], SIMULATOR[model][p][_ORDER.index(design)]) for p in ENERGY_PARTS})}
            )
    ratios = {}
    for base in _ORDER[1:]:
        entry = {}
        for key, runs in (("", own), ("simwl_", sim_conv)):
            entry[f"{key}speedup"] = _geomean([runs[m][base].time_ms / runs[m]["MixPE-A8"].time_ms for m in MODEL_NAMES])
            entry[f"{key}energy_reduction"] = _geomean(
                [runs[m][base].energy_mj["total"] / runs[m]["MixPE-A8"].energy_mj["total"] for m in MODEL_NAMES]
            )
        entry["sim_speedup"] = _geomean([_simulator(m, base)[0] / _simulator(m, "MixPE-A8")[0] for m in MODEL_NAMES])
        entry["sim_energy_reduction"] = _geomean([_simulator(m, base)[1] / _simulator(m, "MixPE-A8")[1] for m in MODEL_NAMES])
        ratios[base] = entry
    return {"rows": rows, "mixpe_w4a8_over": ratios, "paper_headline": PAPER_HEADLINE, "tolerance": TOLERANCE}


def bench_phases(out: Path) -> list[dict]:
    """MixPE-W4A8 over INT8, FP16 and ANT: prefill vs decode, iso-area vs equal PE count, the speedup split."""
    rows = []
    for model in PHASE_MODELS:
        for phase, seq_len in (("prefill", None), ("decode", 1)):
            for array in ("iso_area", "equal_pe"):
                for base in PHASE_BASELINES:
                    r = run_mixpe_perf(MixPEPerfArgs(model=model, seq_len=seq_len, array=array, baseline=base,
                                                     designs=[base], plot=False,
                                                     out_dir=str(out / "phases" / f"{model}-{phase}-{array}-{base}")))
                    focus = next(d for d in r.designs if d.design == r.focus)
                    rows.append({"model": model, "phase": phase, "tokens": r.tokens, "array": array, "baseline": base,
                                 "speedup": r.speedup, "energy_reduction": r.energy_reduction, **r.speedup_factors,
                                 "memory_bound_share": focus.memory_bound_share})
    return rows


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
    result = {"perf": bench_perf(out_dir), "phases": bench_phases(out_dir), "gemm": bench_gemm()}
    (out_dir / "bench_mixpe.json").write_text(json.dumps(result, indent=2))
    if progress:
        progress("mixpe", 1.0)
    return result


def _pct(x: float) -> str:
    return f"{x:+.0%}"


def to_markdown(result: dict) -> str:
    """Ours next to the MixPE simulator's output and the paper's headline."""
    perf, gemm = result["perf"], result["gemm"]
    lines = [
        "Time and energy normalised to FP16: the MixPE simulator (sim), ours on the simulator's workload (sim wl: "
        "batch 64 x 1 token, ViT patch embedding, MixPE activations at the weight width, output-stationary arrays) "
        "and ours on our own "
        "(own: every block runs the full sequence, MixPE at its real activation width). Gaps are against sim; "
        f"`why` names the modelling difference wherever a gap exceeds {perf['tolerance']:.0%}.",
        "",
        "| model | design | sim time | ours sim wl | gap | ours own | gap | sim energy | ours sim wl | gap | ours own "
        "| gap | why |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r['model']} | {r['design']} | {r['sim_time']:.2f} | {r['time_simwl']:.3f} | {_pct(r['time_gap_simwl'])} "
        f"| {r['time']:.3f} | {_pct(r['time_gap'])} | {r['sim_energy']:.2f} | {r['energy_simwl']:.3f} "
        f"| {_pct(r['energy_gap_simwl'])} | {r['energy']:.3f} | {_pct(r['energy_gap'])} | {r['why']} |"
        for r in perf["rows"]
    ]
    lines += ["", "MixPE-W4A8 over each baseline, geomean of the four models", "",
              "| baseline | speedup own | sim wl | sim | energy reduction own | sim wl | sim |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {b} | {v['speedup']:.2f} | {v['simwl_speedup']:.2f} | {v['sim_speedup']:.2f} | "
              f"{v['energy_reduction']:.2f} | {v['simwl_energy_reduction']:.2f} | {v['sim_energy_reduction']:.2f} |"
              for b, v in perf["mixpe_w4a8_over"].items()]
    paper = perf["paper_headline"]
    lines += ["", f"Paper abstract: {paper['speedup']}x speedup, {paper['energy_reduction']}x energy reduction "
              "(over state-of-the-art quantisation accelerators).", ""]
    lines += [
        "MixPE-W4A8 against each baseline: prefill (batch 1 x the model's context) and decode (1 token, a GEMV), "
        "on the iso-area arrays and with every design at 32x32 PEs; speedup = PE count x packing (MACs per PE) "
        "x dequantisation x other (DRAM stalls, padding, fill).",
        "",
        "| model | phase | array | over | speedup | = PEs | x packing | x dequant | x other | energy reduction "
        "| MixPE DRAM-bound |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['model']} | {r['phase']} ({r['tokens']} tok) | {r['array'].replace('_', '-')} | {r['baseline']} "
        f"| {r['speedup']:.2f}x | {r['pe_count']:.2f} | {r['packing']:.2f} | {r['dequant']:.3f} | {r['other']:.2f} "
        f"| {r['energy_reduction']:.2f}x | {r['memory_bound_share']:.0%} |"
        for r in result["phases"]
    ]
    lines += ["", "At one token a weight-stationary pass streams 1 row but lasts `rows` cycles while the next weight "
              "tile shifts in, so decode is bound by moving weights into the array (`other` < 1) before the 1024-bit "
              "DRAM interface saturates (DRAM-bound share above)."]
    lines += ["", "| GEMM | activation | passed | rel err conventional | rel err MixPE | dequant saving |",
              "|---|---|---|---:|---:|---:|"]
    lines += [f"| {r['shape']} | {r['activation']} | {r['passed']} | {r['rel_error_conventional']:.2e} | "
              f"{r['rel_error_mixpe']:.2e} | {r['dequant_saving']:.0f}x |" for r in gemm]
    return "\n".join(lines)
