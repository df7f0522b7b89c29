"""MixPE (mixed-precision processing element): its mixed-precision GEMM (functional model) and its accelerator model.

- ``run_mixpe_gemm``: both dequantisation orders of a group-quantised GEMM, checked against ``torch.matmul``,
  with their operation counts (``tools.mixpe.gemm``);
- ``run_mixpe_perf``: time and energy of iso-area accelerator designs on transformer workloads
  (``tools.mixpe.perf``, constants in ``tools.mixpe.accelerators``, shapes in ``tools.mixpe.transformer_shapes``).
"""

from tools.mixpe.gemm import MixPEGemmArgs, MixPEGemmResult, run_mixpe_gemm
from tools.mixpe.perf import MixPEPerfArgs, MixPEPerfResult, run_mixpe_perf

__all__ = (
    "MixPEGemmArgs",
    "MixPEGemmResult",
    "run_mixpe_gemm",
    "MixPEPerfArgs",
    "MixPEPerfResult",
    "run_mixpe_perf",
)
