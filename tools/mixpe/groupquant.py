"""Group-wise asymmetric weight quantisation: the weight format MixPE's mixed-precision GEMM consumes.

A weight matrix ``W`` of shape ``(K, N)`` (input features x output features) is split along ``K`` into
groups of ``group_size`` consecutive rows; every (group, column) pair shares one scale ``s`` (FP16) and
one integer zero point ``z``, and each weight becomes an unsigned ``bits``-bit integer ``q``:

    q = clamp(round(w / s) + z, 0, 2^bits - 1),      w_hat = s * (q - z)

This is the min-max asymmetric scheme of GPTQ/AWQ-style weight-only LLM quantisation that MixPE
(Zhang et al., arXiv 2411.16158, Sec. 2) takes as its input format: "scale and zero point are shared
within each quantization group". Nothing here is specific to any hardware.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tools.common import InputError

__all__ = ("GroupQuantized", "quantize_groupwise", "dequantize_groupwise")


@dataclass(frozen=True)
class GroupQuantized:
    """A group-wise quantised weight matrix.

    Attributes:
        q: unsigned integer codes, ``int64`` of shape ``(K, N)``, values in ``[0, 2^bits - 1]``.
        scale: per-group scales, ``float16`` of shape ``(K // group_size, N)``, all positive.
        zero: per-group integer zero points, ``int64`` of shape ``(K // group_size, N)``, in ``[0, 2^bits - 1]``.
        bits: code width in bits.
        group_size: rows of ``K`` sharing one scale and zero point.
    """

    q: torch.Tensor
    scale: torch.Tensor
    zero: torch.Tensor
    bits: int
    group_size: int

    @property
    def n_groups(self) -> int:
        """Groups along ``K``."""
        return self.q.shape[0] // self.group_size

    def expand(self, per_group: torch.Tensor) -> torch.Tensor:
        """Repeat a ``(K // G, N)`` per-group tensor to ``(K, N)`` so it lines up with ``q``."""
        return per_group.repeat_interleave(self.group_size, dim=0)


def quantize_groupwise(weight: torch.Tensor, bits: int = 4, group_size: int = 128) -> GroupQuantized:
    """Quantise ``weight`` (``(K, N)``, any float dtype) to ``bits``-bit codes with per-group scale/zero.

    Scales are rounded to FP16 before the codes are computed, so ``dequantize_groupwise`` reproduces
    exactly the values a kernel holding FP16 scales would use.

    Raises:
        InputError: ``K`` is not a multiple of ``group_size``, or ``bits`` is outside 2..8.
    """
    if weight.ndim != 2:
        raise InputError("weight", tuple(weight.shape), "a 2-D (K, N) matrix")
    if not 2 <= bits <= 8:
        raise InputError("bits", bits, "an integer from 2 to 8")
    k, n = weight.shape
    if group_size < 1 or k % group_size != 0:
        raise InputError("group_size", group_size, f"a positive divisor of K={k}")
    qmax = (1 << bits) - 1
    w = weight.to(torch.float64).reshape(k // group_size, group_size, n)  # (G_count, G, N)
    w_min = w.amin(dim=1).clamp(max=0.0)  # the range always holds 0 so that zero is a code
    w_max = w.amax(dim=1).clamp(min=0.0)
    scale = ((w_max - w_min) / qmax).clamp(min=2.0**-14)  # 2^-14: smallest normal FP16
    scale = scale.to(torch.float16)
    s64 = scale.to(torch.float64)
    zero = torch.round(-w_min / s64).clamp(0, qmax).to(torch.int64)
    q = torch.round(w / s64.unsqueeze(1)) + zero.unsqueeze(1).to(torch.float64)
    q = q.clamp(0, qmax).to(torch.int64).reshape(k, n)
    return GroupQuantized(q=q, scale=scale, zero=zero, bits=bits, group_size=group_size)


def dequantize_groupwise(gq: GroupQuantized) -> torch.Tensor:
    """``s * (q - z)`` as ``float64`` ``(K, N)``; exact, since an FP16 scale times a small integer fits a double."""
    s = gq.expand(gq.scale.to(torch.float64))
    z = gq.expand(gq.zero)
    return s * (gq.q - z).to(torch.float64)
