"""Hardware architecture tools: MixPE's mixed-precision GEMM (functional model) and its accelerator model.

- ``run_mixpe_gemm``: both dequantisation orders of a group-quantised GEMM, checked against ``torch.matmul``,
  with their operation counts (``tools.hw.mixpe_gemm``);
- ``run_mixpe_perf``: time and energy of iso-area accelerator designs on transformer workloads
  (``tools.hw.mixpe_perf``, constants in ``tools.hw.accelerators``, shapes in ``tools.hw.transformer_shapes``).
"""

from tools.hw.mixpe_gemm import MixPEGemmArgs, MixPEGemmResult, run_mixpe_gemm
from tools.hw.mixpe_perf import MixPEPerfArgs, MixPEPerfResult, run_mixpe_perf

__all__ = (
    "MixPEGemmArgs",
    "MixPEGemmResult",
    "run_mixpe_gemm",
    "MixPEPerfArgs",
    "MixPEPerfResult",
    "run_mixpe_perf",
)
