"""Bit-exact functional model of MixPE's mixed-precision GEMM, checked against ``torch.matmul`` (the tool).

Both dequantisation orders (conventional and MixPE's "dequantization after per-group mpGEMM" with
shift-and-add products) run on seeded random data in ``tools.mixpe.datapath``; this module compares them with
a float64 ``torch.matmul`` and counts their operations.

Operation counts follow each order as written in ``tools.mixpe.datapath``; "every accumulation into a register
counts one add". The conventional order dequantises once per weight *use* (``M*K*N``), because the paper's point
is that the dequantisation sits in the main loop; MixPE dequantises ``M*N*K/G`` times, a ``G``-fold saving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report

if TYPE_CHECKING:
    import torch

    from tools.mixpe.groupquant import GroupQuantized

__all__ = (
    "MixPEGemmArgs",
    "MixPEGemmResult",
    "OpCounts",
    "run_mixpe_gemm",
    "conventional_op_counts",
    "mixpe_op_counts",
    "FP16_TOLERANCE",
    "MAX_MACS",
)

FP16_TOLERANCE = 2.0**-10
"""Allowed max-abs error of the FP16 path relative to the largest reference output: one FP16 ulp
(FP16 has a 10-bit stored mantissa, IEEE 754-2008 binary16)."""

MAX_MACS = 2**30
"""Largest ``m*k*n`` the check accepts, so that it runs in seconds on a CPU (about a 1024^3 GEMM)."""

_WEIGHT_STD = 0.02
"""Standard deviation of the random weights: the usual initialisation scale of transformer linear layers
(GPT-2/OPT initialise with N(0, 0.02^2)), so the scales and zero points look like a real checkpoint's."""


class MixPEGemmArgs(BaseModel):
    """Shape, quantisation and activation format of one mixed-precision GEMM ``(M x K) @ (K x N)``."""

    model_config = ConfigDict(extra="forbid")

    m: int = Field(256, ge=1, le=4096, description="Rows of the activation matrix (tokens x batch).")
    group_size: int = Field(128, ge=1, le=4096, description="Rows of K sharing one scale and zero point.")
    k: int = Field(512, ge=1, le=16384, description="Reduction dimension; must be a multiple of group_size.")
    n: int = Field(128, ge=1, le=4096, description="Output features (columns of the weight matrix).")
    weight_bits: Literal[4, 8] = Field(4, description="Width of the quantised weight codes, in bits.")
    activation: Literal["int8", "fp16"] = Field("int8", description="Activation number format.")
    seed: int = Field(0, ge=0, description="Seed of the random activations and weights.")

    @field_validator("k")
    @classmethod
    def _k_fills_whole_groups(cls, k: int, info: ValidationInfo) -> int:
        group_size = info.data.get("group_size")
        if group_size is not None and k % group_size != 0:
            raise InputError("k", k, f"a multiple of group_size={group_size}")
        return k

    @model_validator(mode="after")
    def _check_size(self) -> MixPEGemmArgs:
        if self.m * self.k * self.n > MAX_MACS:
            raise InputError("m", self.m, f"a shape with m*k*n <= 2^30 (got k={self.k}, n={self.n})")
        return self


class OpCounts(BaseModel):
    """Scalar operations one order performs for the whole GEMM."""

    multiplies: int = Field(description="Multiplications (MAC multiplies and dequantisation scalings).")
    shifts: int = Field(description="Shifts (MixPE's shift-and-add; an exponent increment for FP16).")
    adds: int = Field(description="Additions and subtractions, accumulations included.")
    dequantizations: int = Field(description="Applications of (scale, zero point): one subtract and one multiply each.")


class MixPEGemmResult(ToolResult):
    """Errors of both orders against ``torch.matmul`` on the dequantised weights, and their op counts."""

    m: int
    k: int
    n: int
    group_size: int
    weight_bits: int
    activation: str
    reference: str = Field(description="How the reference was computed.")
    max_abs_error: dict[str, float] = Field(description="Max |order - reference| per order ('conventional', 'mixpe').")
    max_rel_error: dict[str, float] = Field(description="max_abs_error / max |reference| per order.")
    tolerance: float = Field(description="Allowed max_rel_error: 0 (bit-exact) for INT8, one FP16 ulp for FP16.")
    passed: bool = Field(description="Both orders within tolerance.")
    op_counts: dict[str, OpCounts] = Field(description="Operation counts per order.")
    dequant_saving: float = Field(description="Conventional / MixPE dequantisations (= group_size).")
    multiply_saving: float = Field(description="Conventional / MixPE multiplications.")
    mean_set_bits: float = Field(description="Average number of 1 bits per weight code (drives shift-and-add work).")


def run_mixpe_gemm(args: MixPEGemmArgs, progress: ProgressFn | None = None) -> MixPEGemmResult:
    """Run both orders on seeded random data and compare them with ``torch.matmul``.

    Example:
        >>> r = run_mixpe_gemm(MixPEGemmArgs(m=8, k=256, n=16))
        >>> r.passed, r.dequant_saving
        (True, 128.0)
    """
    import torch

    from tools.mixpe.datapath import conventional_gemm, mixpe_gemm
    from tools.mixpe.groupquant import dequantize_groupwise, quantize_groupwise

    with Timer() as timer:
        gen = torch.Generator().manual_seed(args.seed)
        report(progress, "drawing and quantising weights", 0.0)
        weight = torch.randn(args.k, args.n, generator=gen, dtype=torch.float64) * _WEIGHT_STD
        gq = quantize_groupwise(weight, bits=args.weight_bits, group_size=args.group_size)
        if args.activation == "int8":
            acts = torch.randint(-128, 128, (args.m, args.k), generator=gen, dtype=torch.int64)
        else:
            acts = torch.randn(args.m, args.k, generator=gen, dtype=torch.float32).to(torch.float16)
        report(progress, "reference torch.matmul", 0.2)
        ref = torch.matmul(acts.to(torch.float64), dequantize_groupwise(gq))  # (M, N)
        report(progress, "conventional order", 0.4)
        conv = conventional_gemm(acts, gq)
        report(progress, "MixPE order", 0.7)
        mix = mixpe_gemm(acts, gq)
        scale = ref.abs().max().item() or 1.0
        abs_err = {name: (out - ref).abs().max().item() for name, out in (("conventional", conv), ("mixpe", mix))}
        rel_err = {name: err / scale for name, err in abs_err.items()}
        tol = 0.0 if args.activation == "int8" else FP16_TOLERANCE
        counts = {"conventional": conventional_op_counts(args.m, args.k, args.n), "mixpe": mixpe_op_counts(args.m, gq)}
        report(progress, "done", 1.0)
    return MixPEGemmResult(
        m=args.m,
        k=args.k,
        n=args.n,
        group_size=args.group_size,
        weight_bits=args.weight_bits,
        activation=args.activation,
        reference="torch.matmul(A.double(), s*(q-z) in float64)",
        max_abs_error=abs_err,
        max_rel_error=rel_err,
        tolerance=tol,
        passed=all(e <= tol for e in rel_err.values()),
        op_counts=counts,
        dequant_saving=counts["conventional"].dequantizations / counts["mixpe"].dequantizations,
        multiply_saving=counts["conventional"].multiplies / counts["mixpe"].multiplies,
        mean_set_bits=_popcount(gq.q, gq.bits).double().mean().item(),
        seed=args.seed,
        seconds=timer.seconds,
        versions=package_versions("torch"),
    )


def _popcount(q: torch.Tensor, bits: int) -> torch.Tensor:
    """Set bits of every code (elementwise)."""
    return sum(((q >> j) & 1) for j in range(bits))


def conventional_op_counts(m: int, k: int, n: int) -> OpCounts:
    """Order (a): every one of the ``M*K*N`` weight uses is dequantised (subtract, multiply), then MAC'd."""
    uses = m * k * n
    return OpCounts(multiplies=2 * uses, shifts=0, adds=2 * uses, dequantizations=uses)


def mixpe_op_counts(m: int, gq: GroupQuantized) -> OpCounts:
    """Order (b) for ``M`` activation rows against the codes in ``gq``.

    Each 1 bit at position ``j`` of a code costs one add (and one shift if ``j >= 1``) per activation row;
    zero bits are skipped. Per row, the group sums of activations cost ``K`` adds (shared by all ``N``);
    per output and group the dequantisation costs a multiply by ``z``, a subtract, a multiply by ``s``
    and the add that accumulates groups.
    """
    k, n = gq.q.shape
    set_bits = int(_popcount(gq.q, gq.bits).sum())
    shifted_bits = int(_popcount(gq.q >> 1, gq.bits - 1).sum())
    dequants = m * n * (k // gq.group_size)
    return OpCounts(
        multiplies=2 * dequants,
        shifts=m * shifted_bits,
        adds=m * set_bits + m * k + 2 * dequants,
        dequantizations=dequants,
    )
