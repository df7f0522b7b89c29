"""Analytical performance and energy model of iso-area accelerators running a quantised transformer.

MixPE (Zhang et al., arXiv 2411.16158) compares MixPE-W4A8 and MixPE-W4A16 with FP16, INT8, BitFusion
and ANT arrays of equal area and reports time and energy normalised to FP16, energy split into core,
buffer, DRAM and static parts. This module is a transparent, roofline-like version of that
evaluation; the constants come from the authors' simulator (see ``tools.mixpe.accelerators``).

Per weight GEMM ``(M x K) @ (K x N)`` and design:

- compute: the ``rows x cols`` weight-stationary array holds ``rows*fk x cols*fn`` weights per pass,
  where ``fk, fn`` are the PE's fusion factors at the GEMM's precisions; each pass streams the ``M``
  activation rows, while the next weight tile shifts in one row per cycle (double-buffered weights),
  so a pass lasts at least ``rows`` cycles; the pipeline fills and drains once per GEMM.
  Dequantisation adds ``DEQUANT_MAC_COST`` MAC slots per dequantisation: one per weight use for
  conventional designs, one per group for MixPE::

      compute = ceil(K / (rows*fk)) * ceil(N / (cols*fn)) * max(M * (1 + c_dq * r), rows) + rows + cols,
      r = 1 (per use) or 1/group_size (per group)

- memory: DRAM bytes of the best of three tilings of the double-buffered SRAMs (activation rows
  resident, weight columns resident, or output tiles with 32-bit partial sums resident), divided by the
  1024-bit/cycle interface. Weights are fetched at their quantised width plus an FP16 scale and a
  zero point per group; activations and outputs at the design's activation width.
- time: ``max(compute, memory)`` cycles per GEMM (compute and transfers overlap), summed, at 500 MHz.
- energy: core = PEs x (leakage x cycles + dynamic x compute cycles); buffer = SRAM bits read and
  written x CACTI energy per bit, where every MAC fetches its operands from the SRAMs (one activation
  shared by the ``fn`` MACs fused along N, one weight shared by the ``fk`` along K), as the BitFusion
  simulator counts buffer reads; DRAM = bits x energy per bit; static = DRAM background energy per cycle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.mixpe.accelerators import (
    DEQUANT_MAC_COST,
    DESIGN_NAMES,
    DESIGNS,
    DRAM_BITS_PER_CYCLE,
    DRAM_READ_PJ_PER_BIT,
    DRAM_WRITE_PJ_PER_BIT,
    FREQUENCY_HZ,
    IBUF_BYTES,
    OBUF_BYTES,
    PSUM_BITS,
    SRAM_PJ_PER_BIT,
    STATIC_PJ_PER_CYCLE,
    WBUF_BYTES,
    Design,
    DesignName,
)
from tools.mixpe.transformer_shapes import SHAPES, GemmShape, ModelName, block_gemms

__all__ = ("MixPEPerfArgs", "MixPEPerfResult", "DesignPerf", "GemmCost", "gemm_cost", "run_mixpe_perf")

ENERGY_PARTS = ("core", "buffer", "dram", "static")


class MixPEPerfArgs(BaseModel):
    """Workload, precision and the designs to compare."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName = Field("OPT-6.7B", description="Transformer whose weight GEMMs are run.")
    designs: list[DesignName] | None = Field(
        None, description="Designs to model, default all; the baseline and the focus MixPE variant are always added."
    )
    weight_bits: Literal[4, 8] = Field(4, description="Width of the group-wise quantised weights, in bits.")
    activation: Literal["int8", "fp16"] = Field(
        "int8", description="Activation format of the MixPE variant the headline ratio is about (MixPE-A8 or -A16)."
    )
    baseline: DesignName = Field("FP16", description="Design that times and energies are normalised to.")
    seq_len: int | None = Field(None, ge=1, le=32768, description="Tokens per sample; default: the model's.")
    batch: int = Field(1, ge=1, le=4096, description="Samples per run.")
    group_size: int = Field(128, ge=1, le=4096, description="Weights sharing one scale and zero point.")
    plot: bool = Field(True, description="Also write a PNG of normalised time and energy.")
    out_dir: str | None = Field(None, description="Folder for the JSON/PNG artefacts; default a fresh run folder.")

    @model_validator(mode="after")
    def _check_designs(self) -> MixPEPerfArgs:
        if self.designs is not None and not self.designs:
            raise InputError("designs", [], "a non-empty list drawn from " + ", ".join(DESIGN_NAMES))
        return self

    def design_list(self) -> list[str]:
        """Designs in the paper's order, deduplicated, with the baseline and the focus design included."""
        wanted = set(self.designs or DESIGN_NAMES) | {self.baseline, self.focus()}
        return [name for name in DESIGN_NAMES if name in wanted]

    def focus(self) -> str:
        """The MixPE design the headline ratio is about."""
        return "MixPE-A8" if self.activation == "int8" else "MixPE-A16"


class DesignPerf(BaseModel):
    """One design's totals over all weight GEMMs of the model."""

    design: str
    label: str = Field(description="Name in the paper's style, e.g. MixPE-W4A8.")
    array: str = Field(description="rows x cols PEs.")
    peak_macs_per_cycle: float = Field(description="PEs x MACs per PE per cycle at this workload's precisions.")
    compute_cycles: float
    memory_cycles: float
    cycles: float
    time_ms: float
    energy_mj: dict[str, float] = Field(description="core, buffer, dram, static and total, in mJ.")
    memory_bound_share: float = Field(description="Share of the time spent in memory-bound GEMMs.")
    norm_time: float = Field(description="Time / baseline time.")
    norm_energy: dict[str, float] = Field(description="Energy parts and total / baseline total energy.")
    speedup: float = Field(description="Baseline time / time.")
    energy_reduction: float = Field(description="Baseline energy / energy.")


class MixPEPerfResult(ToolResult):
    """Time and energy per design, normalised to the baseline, plus the headline ratio."""

    model: str
    layers: int
    tokens: int = Field(description="batch x seq_len: rows M of every GEMM.")
    seq_len: int
    batch: int
    weight_bits: int
    group_size: int
    baseline: str
    focus: str = Field(description="Design the headline ratio is about.")
    focus_label: str
    speedup: float = Field(description="Baseline time / focus time.")
    energy_reduction: float = Field(description="Baseline energy / focus energy.")
    designs: list[DesignPerf]
    config_source: str = "github.com/yuzhang712/mixpe_simulator (conf_*.ini, systolic_array_synth.csv); CACTI 28 nm"


@dataclass(frozen=True)
class GemmCost:
    """Cycles and energy parts (pJ) of one GEMM on one design; additive over GEMMs."""

    compute_cycles: float
    memory_cycles: float
    cycles: float
    core_pj: float
    buffer_pj: float
    dram_pj: float
    static_pj: float

    def scaled(self, factor: float) -> GemmCost:
        return GemmCost(*(getattr(self, f.name) * factor for f in fields(self)))

    def __add__(self, other: GemmCost) -> GemmCost:
        return GemmCost(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def run_mixpe_perf(args: MixPEPerfArgs, progress: ProgressFn | None = None) -> MixPEPerfResult:
    """Model every requested design on the model's weight GEMMs and normalise to the baseline.

    Example:
        >>> args = MixPEPerfArgs(model="OPT-6.7B", designs=["MixPE-A8", "INT8"], baseline="INT8", plot=False)
        >>> r = run_mixpe_perf(args)
        >>> r.focus_label, r.speedup > 1
        ('MixPE-W4A8', True)
    """
    with Timer() as timer:
        shape = SHAPES[args.model]
        seq_len = args.seq_len or shape.default_seq_len
        gemms = block_gemms(shape, args.batch * seq_len)
        names = args.design_list()
        totals: dict[str, GemmCost] = {}
        per_gemm: dict[str, dict[str, dict[str, float]]] = {}
        bound_cycles: dict[str, float] = {}
        for i, name in enumerate(names):
            report(progress, f"modelling {name}", i / len(names))
            costs = [gemm_cost(DESIGNS[name], g, args.weight_bits, args.group_size) for g in gemms]
            totals[name] = sum(costs[1:], costs[0]).scaled(shape.layers)
            per_gemm[name] = {g.name: _cost_dict(c.scaled(shape.layers)) for g, c in zip(gemms, costs)}
            bound_cycles[name] = shape.layers * sum(c.cycles for c in costs if c.memory_cycles > c.compute_cycles)
        base = totals[args.baseline]
        rows = [_design_perf(DESIGNS[n], totals[n], base, bound_cycles[n], args.weight_bits) for n in names]
        focus_row = next(r for r in rows if r.design == args.focus())
        out = run_dir(args.out_dir, "mixpe_perf")
        result = MixPEPerfResult(
            model=args.model,
            layers=shape.layers,
            tokens=args.batch * seq_len,
            seq_len=seq_len,
            batch=args.batch,
            weight_bits=args.weight_bits,
            group_size=args.group_size,
            baseline=args.baseline,
            focus=focus_row.design,
            focus_label=focus_row.label,
            speedup=focus_row.speedup,
            energy_reduction=focus_row.energy_reduction,
            designs=rows,
            versions=package_versions("pydantic", "matplotlib"),
        )
        (out / "mixpe_perf.json").write_text(
            json.dumps({"result": result.model_dump(exclude={"artifacts"}), "per_gemm": per_gemm}, indent=2)
        )
        result.artifacts["json"] = str(out / "mixpe_perf.json")
        if args.plot:
            result.artifacts["plot"] = str(_plot(result, out / "mixpe_perf.png"))
        report(progress, "done", 1.0)
    result.seconds = timer.seconds
    return result


def gemm_cost(design: Design, gemm: GemmShape, weight_bits: int, group_size: int) -> GemmCost:
    """Cost of one GEMM; a design's 8-bit share (ANT's fallback, BitFusion's W8A8 layers) is blended in linearly."""
    cost = _gemm_cost_at(design, gemm, design.act_bits, weight_bits, group_size)
    if design.int8_share == 0.0:
        return cost
    fallback = _gemm_cost_at(design, gemm, 8, 8, group_size)
    return cost.scaled(1.0 - design.int8_share) + fallback.scaled(design.int8_share)


def _gemm_cost_at(design: Design, g: GemmShape, act_bits: int, weight_bits: int, group_size: int) -> GemmCost:
    fk, fn = design.fusion(act_bits, weight_bits)
    row_tiles = math.ceil(g.k / (design.rows * fk))
    col_tiles = math.ceil(g.n / (design.cols * fn))
    dequant_rate = 1.0 if design.dequant == "per_use" else 1.0 / group_size
    stream = g.m * (1.0 + DEQUANT_MAC_COST * dequant_rate)
    compute = row_tiles * col_tiles * max(stream, design.rows) + design.rows + design.cols

    groups = math.ceil(g.k / group_size)
    w_bytes = g.k * g.n * weight_bits / 8 + groups * g.n * (16 + weight_bits) / 8  # codes + FP16 scale + zero
    a_bytes = g.m * g.k * act_bits / 8
    o_bytes = g.m * g.n * act_bits / 8
    w_fetched, a_fetched = _dram_reads(g, a_bytes, w_bytes)
    read_bits, write_bits = 8 * (w_fetched + a_fetched), 8 * o_bytes
    memory = (read_bits + write_bits) / DRAM_BITS_PER_CYCLE
    cycles = max(compute, memory)

    pe = design.pe
    core = design.pes * (pe.leakage_pj_per_cycle * cycles + pe.dynamic_pj_per_cycle * compute)
    e = SRAM_PJ_PER_BIT
    psum_bits = g.m * g.n * PSUM_BITS * row_tiles  # one read-modify-write of the partial sums per K pass
    buffer = (
        8 * w_fetched * e["wbuf_write"]
        + 8 * a_fetched * e["ibuf_write"]
        + g.macs * weight_bits / fk * e["wbuf_read"]
        + g.macs * act_bits / fn * e["ibuf_read"]
        + psum_bits * (e["obuf_write"] + e["obuf_read"])
    )
    dram = read_bits * DRAM_READ_PJ_PER_BIT + write_bits * DRAM_WRITE_PJ_PER_BIT
    return GemmCost(
        compute_cycles=compute,
        memory_cycles=memory,
        cycles=cycles,
        core_pj=core,
        buffer_pj=buffer,
        dram_pj=dram,
        static_pj=cycles * STATIC_PJ_PER_CYCLE,
    )


def _dram_reads(g: GemmShape, a_bytes: float, w_bytes: float) -> tuple[float, float]:
    """(weight bytes, activation bytes) read from DRAM by the cheapest of three tilings.

    Each SRAM is double-buffered, so half of it holds the working tile (as in the BitFusion simulator).
    1. a block of activation rows stays in IBUF while all weights stream past: weights re-read per block;
    2. a block of weight columns stays in WBUF while all activations stream past: activations re-read;
    3. an ``m_t x n_t`` tile of 32-bit partial sums stays in OBUF: activations re-read ``N/n_t`` times,
       weights ``M/m_t`` times (``m_t`` searched over powers of two).
    """
    ibuf, wbuf, obuf = IBUF_BYTES / 2, WBUF_BYTES / 2, OBUF_BYTES / 2
    a_row, w_col = a_bytes / g.m, w_bytes / g.n
    options: list[tuple[float, float]] = []
    if a_row <= ibuf:
        options.append((w_bytes * math.ceil(g.m / math.floor(ibuf / a_row)), a_bytes))
    if w_col <= wbuf:
        options.append((w_bytes, a_bytes * math.ceil(g.n / math.floor(wbuf / w_col))))
    m_t = 1
    while m_t <= g.m and obuf / (PSUM_BITS / 8 * m_t) >= 1:
        n_t = math.floor(obuf / (PSUM_BITS / 8 * m_t))
        options.append((w_bytes * math.ceil(g.m / m_t), a_bytes * math.ceil(g.n / n_t)))
        m_t *= 2
    return min(options, key=sum)


def _design_perf(design: Design, cost: GemmCost, base: GemmCost, bound_cycles: float, weight_bits: int) -> DesignPerf:
    energy = {p: getattr(cost, f"{p}_pj") * 1e-9 for p in ENERGY_PARTS}  # pJ -> mJ
    energy["total"] = sum(energy.values())
    base_total = sum(getattr(base, f"{p}_pj") for p in ENERGY_PARTS) * 1e-9
    return DesignPerf(
        design=design.name,
        label=design.label(weight_bits),
        array=f"{design.rows}x{design.cols}",
        peak_macs_per_cycle=_peak_macs(design, weight_bits),
        compute_cycles=cost.compute_cycles,
        memory_cycles=cost.memory_cycles,
        cycles=cost.cycles,
        time_ms=cost.cycles / FREQUENCY_HZ * 1e3,
        energy_mj=energy,
        memory_bound_share=bound_cycles / cost.cycles,
        norm_time=cost.cycles / base.cycles,
        norm_energy={p: v / base_total for p, v in energy.items()},
        speedup=base.cycles / cost.cycles,
        energy_reduction=base_total / energy["total"],
    )


def _peak_macs(design: Design, weight_bits: int) -> float:
    """PEs x MACs per PE per cycle; ANT's 8-bit fallback share blended in."""
    fk, fn = design.fusion(design.act_bits, weight_bits)
    peak = float(design.pes * fk * fn)
    if design.int8_share:
        fk8, fn8 = design.fusion(8, 8)
        peak = (1 - design.int8_share) * peak + design.int8_share * design.pes * fk8 * fn8
    return peak


def _cost_dict(cost: GemmCost) -> dict[str, float]:
    return {
        "cycles": cost.cycles,
        "compute_cycles": cost.compute_cycles,
        "memory_cycles": cost.memory_cycles,
        **{f"{p}_mj": getattr(cost, f"{p}_pj") * 1e-9 for p in ENERGY_PARTS},
    }


def _plot(result: MixPEPerfResult, path: Path) -> Path:
    """Bar charts in the paper's style: normalised time, and normalised energy stacked by part."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [d.label for d in result.designs]
    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_t.bar(labels, [d.norm_time for d in result.designs], color="tab:blue")
    ax_t.set_ylabel(f"time / {result.baseline}")
    bottom = [0.0] * len(labels)
    for part in ENERGY_PARTS:
        values = [d.norm_energy[part] for d in result.designs]
        ax_e.bar(labels, values, bottom=bottom, label=part)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax_e.set_ylabel(f"energy / {result.baseline}")
    ax_e.legend(fontsize=8)
    for ax in (ax_t, ax_e):
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.suptitle(f"{result.model}, {result.tokens} tokens, W{result.weight_bits} g{result.group_size}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
