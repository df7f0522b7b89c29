"""The iso-area accelerator design points of MixPE's evaluation, with their published constants.

Source of every number below: the MixPE authors' simulator, github.com/yuzhang712/mixpe_simulator
(commit 769f0c8), which extends the BitFusion/DNNWeaver simulator as adapted by ANT
(github.com/clevercool/ANT-Quantization, ant_simulator/):

- ``conf_mixint.ini``, ``conf_mixfloat.ini``, ``conf_bitfusion.ini``, ``conf_float.ini`` (and the 32x32
  arrays recorded for INT8 in ``results/int.csv`` and in ANT's ``conf_ant.ini``): 500 MHz, a 1024-bit DRAM
  interface, 128 KiB weight / 256 KiB activation / 128 KiB output SRAM, and the array sizes, i.e.
  the iso-area configurations (a smaller PE lets more PEs fit in the same area);
- ``results/systolic_array_synth.csv``: leakage and dynamic power of one PE at 500 MHz, by its
  (max, min) precision; the (8, 4) row serves the INT8, BitFusion, ANT and MixPE-W4A8 arrays there;
- ANT's ``bitfusion/sram/cacti_sweep.csv``: CACTI energies of the SRAM banks at 28 nm (technology 0.028 um);
- ANT's ``bitfusion/src/simulator/stats.py`` ``get_energy_breakdown``: DRAM read/write energy per bit and
  the static (DRAM background) energy per cycle.

The PE throughput rule is the BitFusion simulator's ``get_perf_factor``: a PE built for ``pmax``-bit
operands (``pmin`` at the narrowest) does ``floor(pmax / max(a, pmin)) * floor(pmax / max(w, pmin))``
MACs per cycle on ``a``-bit activations and ``w``-bit weights.

Three modelling choices are read off the simulator's benchmark lists (``bitfusion/src/benchmarks/*_bench.py``)
rather than published as numbers, and are named where they are used: ``DEQUANT_MAC_COST``, ``ANT_INT8_SHARE``
and ``BITFUSION_W4_O_SHARE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = (
    "DesignName",
    "DESIGN_NAMES",
    "PEType",
    "Design",
    "DESIGNS",
    "FREQUENCY_HZ",
    "DRAM_BITS_PER_CYCLE",
    "WBUF_BYTES",
    "IBUF_BYTES",
    "OBUF_BYTES",
    "PSUM_BITS",
    "SRAM_PJ_PER_BIT",
    "DRAM_READ_PJ_PER_BIT",
    "DRAM_WRITE_PJ_PER_BIT",
    "STATIC_PJ_PER_CYCLE",
    "DEQUANT_MAC_COST",
    "ANT_INT8_SHARE",
    "BITFUSION_W4_O_SHARE",
    "EQUAL_PE_ARRAY",
)

DesignName = Literal["MixPE-A8", "MixPE-A16", "FP16", "INT8", "BitFusion", "ANT"]
DESIGN_NAMES: tuple[str, ...] = get_args(DesignName)

FREQUENCY_HZ = 500e6  # conf_*.ini: frequency = 500000000
DRAM_BITS_PER_CYCLE = 1024  # conf_*.ini: [system] if_width = 1024 (64 GB/s at 500 MHz)
WBUF_BYTES = 131072  # conf_*.ini: Wgt_SRAM
IBUF_BYTES = 262144  # conf_*.ini: Act_SRAM
OBUF_BYTES = 131072  # conf_*.ini: Out_SRAM
PSUM_BITS = 32  # simulator.py get_energy_cost: obuf_bits = 32 (partial sums)

# CACTI 28 nm, per bit: the simulator's banks are 32 x 4 KiB (WBUF) and 32 x 8 KiB (IBUF) with 512-bit
# words, and 1024 x 128 B (OBUF) with 32-bit words; energy per access / word bits (cacti_sweep.csv).
SRAM_PJ_PER_BIT = {
    "wbuf_read": 16.8924 / 512,
    "wbuf_write": 20.3422 / 512,
    "ibuf_read": 17.7688 / 512,
    "ibuf_write": 24.8866 / 512,
    "obuf_read": 0.294945 / 32,
    "obuf_write": 0.415925 / 32,
}
DRAM_READ_PJ_PER_BIT = 0.644304e3 / 1024  # stats.py: dram_cost_read = 0.644304 / 1024 nJ per bit
DRAM_WRITE_PJ_PER_BIT = 0.784104e3 / 1024  # stats.py: dram_cost_write = 0.784104 / 1024 nJ per bit
STATIC_PJ_PER_CYCLE = 484.615e3 / 500  # stats.py: dram_leak_energy = 484.615 / 500 nJ per cycle

DEQUANT_MAC_COST = 1.0 / 8
"""Cost of one dequantisation (subtract zero point, multiply by scale) in MACs at the datapath's base width.
The MixPE simulator's benchmark lists charge the conventional in-loop dequantisation of every layer as an
extra GEMM with N/8 output columns run at the array's base precision (8-bit on integer arrays, 16-bit on FP16
ones; e.g. 1536 extra columns for OPT's 12288-wide QKV in ``ant_bench.py``, at 8 bits while the QKV itself runs
at 4 x 4), i.e. 1/8 of the layer's MACs at base width. MixPE dequantises once per group, so it pays this
1/group_size as often (``int48_bench.py`` charges it as a K/8 x N/128 GEMM at 8 bits)."""

ANT_INT8_SHARE: dict[str, float] = {"ViT-Base": 2 / 12, "ViT-Huge": 6 / 32, "OPT-6.7B": 6 / 32, "LLaMA-2-13B": 8 / 40}
"""Share of ANT's blocks that fall back to 8-bit activations and weights (the rest run 4-bit x 4-bit): the
blocks listed at precision 8 in the MixPE simulator's ``ant_bench.py`` (2 of 12 ViT-Base blocks, 6 of 32 for
ViT-Huge and OPT-6.7B, 8 of 40 for LLaMA-2-13B)."""

BITFUSION_W4_O_SHARE = 0.5
"""Share of BitFusion's attention-output projections run at 4 x 4 bits; every other GEMM runs 8 x 8, since
BitFusion quantises per layer, without group-wise scales. ``bitfusion_bench.py`` lists the O projection of
half the blocks at precision 4 (6/12, 16/32, 16/32, 20/40) when the weights are 4-bit."""

EQUAL_PE_ARRAY = (32, 32)
"""The array every design gets in the equal-PE-count variant: the INT8 and ANT arrays' 32 x 32 PEs, so that a
ratio shows what each PE gains, without the PEs that a smaller PE buys in the same area."""


@dataclass(frozen=True)
class PEType:
    """One processing element's precision range and power at 500 MHz (systolic_array_synth.csv)."""

    max_bits: int
    min_bits: int
    leakage_nw: float
    dynamic_nw: float

    @property
    def leakage_pj_per_cycle(self) -> float:
        return self.leakage_nw / FREQUENCY_HZ * 1e3  # nW / Hz = nJ; x1e3 -> pJ

    @property
    def dynamic_pj_per_cycle(self) -> float:
        return self.dynamic_nw / FREQUENCY_HZ * 1e3


PE_8_4 = PEType(8, 4, leakage_nw=64314, dynamic_nw=279960)
PE_16_16 = PEType(16, 16, leakage_nw=192942, dynamic_nw=839982)
PE_16_8 = PEType(16, 8, leakage_nw=128458, dynamic_nw=544982)


@dataclass(frozen=True)
class Design:
    """An accelerator design point running a group-wise quantised model.

    Attributes:
        rows: PEs along the reduction dimension K (config key ``a``).
        cols: PEs along the output dimension N (config key ``c``).
        act_bits: activation width the design computes with (16: FP16, else integer).
        weight_floor_bits: narrowest weight the datapath takes; narrower codes are widened to it
            (an FP16 array computes on dequantised FP16 weights, an INT8 array on INT8 weights).
        dequant: ``"per_use"``: dequantise each weight in the main loop (conventional);
            ``"per_group"``: once per group after the integer partial sum (MixPE).
        base_bits: width of the datapath's dequantisation (and of unquantised layers such as ViT's patch
            embedding): 8 on integer arrays, 16 on FP16 ones.
    """

    name: str
    rows: int
    cols: int
    pe: PEType
    act_bits: int
    weight_floor_bits: int
    dequant: Literal["per_use", "per_group"]
    base_bits: int

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def label(self, weight_bits: int) -> str:
        """The paper's name for this design at ``weight_bits``, e.g. ``MixPE-W4A8``."""
        if self.name.startswith("MixPE-A"):
            return f"MixPE-W{weight_bits}A{self.act_bits}"
        return self.name

    def fusion(self, act_bits: int, weight_bits: int) -> tuple[int, int]:
        """MACs per PE per cycle, split as (along K, along N): BitFusion's ``get_perf_factor``."""
        a = max(act_bits, self.pe.min_bits)
        w = max(weight_bits, self.weight_floor_bits, self.pe.min_bits)
        return self.pe.max_bits // a, self.pe.max_bits // w


DESIGNS: dict[str, Design] = {
    d.name: d
    for d in (
        Design("MixPE-A8", 64, 64, PE_8_4, 8, 1, "per_group", 8),  # conf_mixint.ini
        Design("MixPE-A16", 32, 32, PE_16_8, 16, 1, "per_group", 16),  # conf_mixfloat.ini
        Design("FP16", 32, 28, PE_16_16, 16, 16, "per_use", 16),  # conf_float.ini
        Design("INT8", 32, 32, PE_8_4, 8, 8, "per_use", 8),  # conf_int.ini
        Design("BitFusion", 32, 40, PE_8_4, 8, 1, "per_use", 8),  # conf_bitfusion.ini
        Design("ANT", 32, 32, PE_8_4, 4, 1, "per_use", 8),  # conf_ant.ini
    )
}
