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
  Dequantisation adds ``DEQUANT_MAC_COST`` MACs per dequantisation, run at the datapath's base width
  (``fb`` MACs per PE per cycle at 8 x 8 bits on integer arrays, 16 x 16 on FP16 ones, as the MixPE simulator
  charges it): one per weight use for conventional designs, one per group for MixPE::

      compute = ceil(K / (rows*fk)) * ceil(N / (cols*fn)) * max(M * (1 + c_dq * r * fk*fn / fb), rows) + rows + cols,
      r = 1 (per use) or 1/group_size (per group)

  A design whose GEMMs mix precisions (ANT's 8-bit fallback blocks, BitFusion's 4-bit O projections) is a
  MAC-weighted blend of its precisions (``precision_mix``).

- memory: DRAM bytes of the best of three tilings of the double-buffered SRAMs (activation rows
  resident, weight columns resident, or output tiles with 32-bit partial sums resident), divided by the
  1024-bit/cycle interface. Weights are fetched at their quantised width plus an FP16 scale and a
  zero point per group; activations and outputs at the design's activation width.
- time: ``max(compute, memory)`` cycles per GEMM (compute and transfers overlap), summed, at 500 MHz.
- the ``convention`` ``"simulator"`` reruns the same model on the MixPE simulator's workload, operand widths and
  dataflow (``tools.mixpe.transformer_shapes.simulator_gemms``; MixPE's activations at the weight width;
  output-stationary arrays, ``compute = ceil(M / (rows*fk)) * ceil(N / (cols*fn)) * K``, as ``run_mix.py``
  leaves the BitFusion sweep's ``weight_stationary=False``: at M = 64 this fills only half of MixPE-W4A8's
  64 x 2 activation rows), so a reader sees which gap to the authors' numbers is the workload and which the model.
- energy: core = PEs x (leakage x cycles + dynamic x compute cycles); buffer = SRAM bits read and
  written x CACTI energy per bit, where every MAC fetches its operands from the SRAMs (one activation
  shared by the ``fn`` MACs fused along N, one weight shared by the ``fk`` along K), as the BitFusion
  simulator counts buffer reads; DRAM = bits x energy per bit; static = DRAM background energy per cycle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.mixpe.accelerators import (
    ANT_INT8_SHARE,
    BITFUSION_W4_O_SHARE,
    DEQUANT_MAC_COST,
    DESIGN_NAMES,
    DESIGNS,
    DRAM_BITS_PER_CYCLE,
    DRAM_READ_PJ_PER_BIT,
    DRAM_WRITE_PJ_PER_BIT,
    EQUAL_PE_ARRAY,
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
from tools.mixpe.transformer_shapes import SHAPES, GemmShape, ModelName, block_gemms, simulator_gemms

__all__ = (
    "ENERGY_PARTS",
    "MixPEPerfArgs",
    "MixPEPerfResult",
    "DesignPerf",
    "GemmCost",
    "gemm_cost",
    "precision_mix",
    "datapath",
    "run_mixpe_perf",
)

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
    array: Literal["iso_area", "equal_pe"] = Field(
        "iso_area",
        description="iso_area: the published arrays of equal area (a smaller PE buys more PEs: MixPE-W4A8 64x64, "
        "INT8 32x32); equal_pe: every design 32x32, so a ratio shows what each PE gains.",
    )
    convention: Literal["ours", "simulator"] = Field(
        "ours",
        description="ours: every block runs batch x seq_len tokens at the design's own operand widths; simulator: "
        "the MixPE simulator's benchmark lists (one token per sample, ViT's patch embedding, MixPE's "
        "activations at the weight width), to compare with its published numbers.",
    )
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
    datapath: str = Field(description="How the design runs the quantised GEMMs (operand widths, dequantisation).")
    pes: int
    macs_per_pe: float = Field(description="MACs per PE per cycle, MAC-weighted over the GEMMs' precisions.")
    dequant_overhead: float = Field(description="Extra compute cycles for dequantisation, as a share of the MACs'.")
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
    array: str
    convention: str
    speedup: float = Field(description="Baseline time / focus time.")
    energy_reduction: float = Field(description="Baseline energy / focus energy.")
    speedup_factors: dict[str, float] = Field(
        description="The speed-up split as pe_count x packing x dequant x other (DRAM stalls, tile padding, fill)."
    )
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
        seq_len = 1 if args.convention == "simulator" else args.seq_len or shape.default_seq_len
        if args.convention == "simulator":
            gemms = simulator_gemms(shape, args.batch)
        else:
            gemms = block_gemms(shape, args.batch * seq_len)
        counts = [1 if not g.quantised else shape.layers for g in gemms]  # the patch embedding runs once
        # run_mix.py leaves the sweep's weight_stationary=False: the simulator's arrays are output-stationary
        dataflow = "output_stationary" if args.convention == "simulator" else "weight_stationary"
        names = args.design_list()
        totals: dict[str, GemmCost] = {}
        per_gemm: dict[str, dict[str, dict[str, float]]] = {}
        measured: list[tuple[Design, float, float, float]] = []  # design, MACs per PE, dequant share, bound cycles
        for i, name in enumerate(names):
            report(progress, f"modelling {name}", i / len(names))
            design = _sized(DESIGNS[name], args.array)
            mixes = [precision_mix(design, args.model, g, args.weight_bits, args.convention) for g in gemms]
            costs = [gemm_cost(design, g, args.weight_bits, args.group_size, mix, dataflow)
                     for g, mix in zip(gemms, mixes)]
            scaled = [c.scaled(n) for c, n in zip(costs, counts)]
            totals[name] = sum(scaled[1:], scaled[0])
            per_gemm[name] = {g.name: _cost_dict(c) for g, c in zip(gemms, scaled)}
            bound = sum(c.cycles for c in scaled if c.memory_cycles > c.compute_cycles)
            slots, dequant = _mac_slots(design, gemms, counts, mixes, args.group_size)
            measured.append((design, slots, dequant, bound))
        base = totals[args.baseline]
        rows = [
            _design_perf(d, totals[d.name], base, bound, slots, dq, args,
                         datapath(d, args.model, args.weight_bits, args.group_size, args.convention))
            for d, slots, dq, bound in measured
        ]
        focus_row = next(r for r in rows if r.design == args.focus())
        base_row = next(r for r in rows if r.design == args.baseline)
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
            array=args.array,
            convention=args.convention,
            speedup=focus_row.speedup,
            energy_reduction=focus_row.energy_reduction,
            speedup_factors=_speedup_factors(focus_row, base_row),
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


Precision = tuple[float, int, int]
"""(share of the GEMM's MACs, activation bits, weight bits)."""


def precision_mix(
    design: Design, model: str, gemm: GemmShape, weight_bits: int, convention: str = "ours"
) -> tuple[Precision, ...]:
    """The operand widths a design runs one GEMM at, as in the MixPE simulator's benchmark lists.

    ANT falls back to 8 x 8 bits in ``ANT_INT8_SHARE`` of its blocks; BitFusion runs 8 x 8 except half its O
    projections at 4 x 4; an unquantised layer runs at the base width. Under the ``"simulator"`` convention
    MixPE's activations take the weight width (``int48_bench.py`` lists W4A8 GEMMs at precision 4 for both
    operands, ``mixfloat_bench.py`` W4A16 ones at 8 for both), which doubles MixPE's MACs per PE.
    """
    if not gemm.quantised:
        return ((1.0, design.base_bits, design.base_bits),)
    act = weight_bits if convention == "simulator" and design.dequant == "per_group" else design.act_bits
    if design.name == "ANT":
        share = ANT_INT8_SHARE[model]
        return ((1.0 - share, act, weight_bits), (share, 8, 8))
    if design.name == "BitFusion":
        if gemm.name == "O" and weight_bits == 4:
            return ((1.0 - BITFUSION_W4_O_SHARE, 8, 8), (BITFUSION_W4_O_SHARE, 4, 4))
        return ((1.0, 8, 8),)
    return ((1.0, act, weight_bits),)


def datapath(design: Design, model: str, weight_bits: int, group_size: int, convention: str = "ours") -> str:
    """One phrase saying how ``design`` runs W``weight_bits`` GEMMs: the operand widths and where it dequantises."""
    w = weight_bits
    if design.name.startswith("MixPE"):
        act = w if convention == "simulator" else design.act_bits
        fk, fn = design.fusion(act, w)
        return (f"W{w}A{act} mixed-precision PE, {fk * fn} MACs per PE per cycle, dequantised once per group "
                f"of {group_size} after the integer partial sum")
    every = "dequantised at every weight use"
    if design.name == "FP16":
        return f"FP16 x FP16: the {w}-bit weights dequantised to FP16 at every use"
    if design.name == "INT8":
        return f"W8A8: the {w}-bit weights widened to INT8, {every}" if w < 8 else f"W8A8, {every}"
    if design.name == "ANT":
        return f"W4A4 ANT types with {ANT_INT8_SHARE[model]:.0%} of the blocks at W8A8, {every}"
    return f"W8A8 bit-fusion ({BITFUSION_W4_O_SHARE:.0%} of the O projections at W4A4), {every}"


Dataflow = Literal["weight_stationary", "output_stationary"]


def gemm_cost(
    design: Design, gemm: GemmShape, weight_bits: int, group_size: int, mix: tuple[Precision, ...] | None = None,
    dataflow: Dataflow = "weight_stationary",
) -> GemmCost:
    """Cost of one GEMM, blended linearly over its precision mix (default: the design's own widths)."""
    mix = mix or ((1.0, design.act_bits, weight_bits),)
    parts = [_gemm_cost_at(design, gemm, a, w, group_size, dataflow).scaled(share) for share, a, w in mix]
    return sum(parts[1:], parts[0])


def _sized(design: Design, array: str) -> Design:
    """The design at its published size, or at ``EQUAL_PE_ARRAY`` for the equal-PE-count variant."""
    if array == "iso_area":
        return design
    rows, cols = EQUAL_PE_ARRAY
    return replace(design, rows=rows, cols=cols)


def _dequant_slots(design: Design, g: GemmShape, act_bits: int, weight_bits: int, group_size: int) -> float:
    """Extra compute per MAC slot for dequantisation: ``c_dq * r * fk*fn / fb`` (see the module docstring)."""
    if not g.quantised:
        return 0.0
    fk, fn = design.fusion(act_bits, weight_bits)
    bk, bn = design.fusion(design.base_bits, design.base_bits)
    rate = 1.0 if design.dequant == "per_use" else 1.0 / group_size
    return DEQUANT_MAC_COST * rate * fk * fn / (bk * bn)


def _mac_slots(
    design: Design, gemms: tuple[GemmShape, ...], counts: list[int], mixes: list[tuple[Precision, ...]], group_size: int
) -> tuple[float, float]:
    """(MACs per PE per cycle, dequantisation overhead), both weighted by the time their MACs take."""
    macs = slot_time = dequant_time = 0.0
    for g, n, mix in zip(gemms, counts, mixes):
        for share, a, w in mix:
            fk, fn = design.fusion(a, w)
            m = g.macs * n * share
            macs += m
            slot_time += m / (fk * fn)
            dequant_time += m / (fk * fn) * _dequant_slots(design, g, a, w, group_size)
    return macs / slot_time, dequant_time / slot_time


def _speedup_factors(focus: DesignPerf, base: DesignPerf) -> dict[str, float]:
    """The focus design's speed-up over the baseline as PE count x packing x dequantisation x the rest."""
    factors = {
        "pe_count": focus.pes / base.pes,
        "packing": focus.macs_per_pe / base.macs_per_pe,
        "dequant": (1 + base.dequant_overhead) / (1 + focus.dequant_overhead),
    }
    factors["other"] = focus.speedup / math.prod(factors.values())
    return factors


def _gemm_cost_at(design: Design, g: GemmShape, act_bits: int, weight_bits: int, group_size: int,
                  dataflow: Dataflow = "weight_stationary") -> GemmCost:
    fk, fn = design.fusion(act_bits, weight_bits)
    col_tiles = math.ceil(g.n / (design.cols * fn))
    dequant = 1.0 + _dequant_slots(design, g, act_bits, weight_bits, group_size)
    if dataflow == "weight_stationary":
        row_tiles = math.ceil(g.k / (design.rows * fk))
        compute = row_tiles * col_tiles * max(g.m * dequant, design.rows) + design.rows + design.cols
    else:  # the BitFusion simulator's get_compute_cycles_output_stationary: M tiled by rows*fk, K streamed
        row_tiles = 1  # partial sums stay in the PEs
        compute = math.ceil(g.m / (design.rows * fk)) * col_tiles * g.k * dequant + design.rows + design.cols

    w_bytes = g.k * g.n * weight_bits / 8
    if g.quantised:
        w_bytes += math.ceil(g.k / group_size) * g.n * (16 + weight_bits) / 8  # FP16 scale + zero per group
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


def _design_perf(
    design: Design, cost: GemmCost, base: GemmCost, bound_cycles: float, macs_per_pe: float, dequant: float,
    args: MixPEPerfArgs, path: str,
) -> DesignPerf:
    energy = {p: getattr(cost, f"{p}_pj") * 1e-9 for p in ENERGY_PARTS}  # pJ -> mJ
    energy["total"] = sum(energy.values())
    base_total = sum(getattr(base, f"{p}_pj") for p in ENERGY_PARTS) * 1e-9
    return DesignPerf(
        design=design.name,
        label=design.label(args.weight_bits),
        array=f"{design.rows}x{design.cols}",
        datapath=path,
        pes=design.pes,
        macs_per_pe=macs_per_pe,
        dequant_overhead=dequant,
        peak_macs_per_cycle=design.pes * macs_per_pe,
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
