"""The two orders of a group-quantised GEMM, bit for bit (the datapath the MixPE tool checks).

MixPE (Zhang et al., "MixPE: Quantization and Hardware Co-design for Efficient LLM Inference",
arXiv 2411.16158) multiplies group-wise quantised low-bit weights by INT8 or FP16 activations. With
weights ``w = s_g (q - z_g)`` (scale ``s_g`` and zero point ``z_g`` shared by the ``G`` rows of group
``g``, see ``tools.mixpe.groupquant``) an output element can be computed in two orders:

(a) conventional — dequantise every weight inside the main loop, then multiply-accumulate:

        y[m, n] = sum_k a[m, k] * (s_g(k) * (q[k, n] - z_g(k)))

(b) MixPE — integer MACs per group, one dequantisation per group after the partial sum
    (the paper's "dequantization after per-group mpGEMM"):

        y[m, n] = sum_g s_g * ( sum_{k in g} a[m, k] q[k, n]  -  z_g * sum_{k in g} a[m, k] )

    and each product ``a * q`` is done by shift-and-add over the bits of ``q`` (the paper's second idea):
    ``a * q = sum_{j : bit j of q is 1} (a << j)``; for an FP16 ``a`` the shift is an exponent increment.

Numerics modelled here:
- INT8 activations: group partial sums are exact ``int32`` integer arithmetic (|a| <= 128, q < 2^bits,
  G terms: far below 2^31); dequantisation and the sum over groups use float64. Every term is an integer
  times an FP16 scale, i.e. a dyadic rational, and for the shapes allowed here all partial sums stay
  within 53 significant bits, so both orders and ``torch.matmul`` in float64 give the *same* bits.
- FP16 activations: the conventional order rounds each dequantised weight to FP16 and accumulates in
  FP32 (an FP16 MAC unit); MixPE's shift-and-add products are exact in FP32 and accumulate in FP32.
  Both must agree with the float64 reference to within FP16 rounding (one FP16 ulp, 2^-10, relative to
  the largest output).
"""

from __future__ import annotations

import torch

from tools.mixpe.groupquant import GroupQuantized

__all__ = ("conventional_gemm", "mixpe_gemm")


def conventional_gemm(acts: torch.Tensor, gq: GroupQuantized) -> torch.Tensor:
    """Order (a): dequantise each weight tile as it is consumed, then multiply-accumulate.

    Args:
        acts: ``(M, K)`` activations, ``int64`` holding INT8 values or ``float16``.
        gq: the quantised ``(K, N)`` weights.

    Returns:
        ``(M, N)``: float64 for INT8 activations (exact), float32 for FP16 (FP16 weights, FP32 accumulator).
    """
    integer = not acts.is_floating_point()
    acc_dtype = torch.float64 if integer else torch.float32
    out = torch.zeros(acts.shape[0], gq.q.shape[1], dtype=acc_dtype)
    for g, rows in enumerate(_group_slices(gq)):
        w_tile = gq.scale[g].to(torch.float64) * (gq.q[rows] - gq.zero[g]).to(torch.float64)  # (G, N)
        if not integer:
            w_tile = w_tile.to(torch.float16)  # the dequantised weight lives in the FP16 datapath
        out += acts[:, rows].to(acc_dtype) @ w_tile.to(acc_dtype)
    return out


def mixpe_gemm(acts: torch.Tensor, gq: GroupQuantized) -> torch.Tensor:
    """Order (b): per-group shift-and-add partial sums, then one dequantisation per group.

    Args and return as in ``conventional_gemm``. The INT8 partial sums are ``int32`` and exact.
    """
    integer = not acts.is_floating_point()
    part_dtype = torch.int32 if integer else torch.float32
    out_dtype = torch.float64 if integer else torch.float32
    out = torch.zeros(acts.shape[0], gq.q.shape[1], dtype=out_dtype)
    for g, rows in enumerate(_group_slices(gq)):
        a_g = acts[:, rows].to(part_dtype)  # (M, G)
        psum = _shift_add_matmul(a_g, gq.q[rows], gq.bits)  # (M, N) = a_g @ q_g
        a_sum = a_g.sum(dim=1, keepdim=True)  # (M, 1): shared by every column n
        corrected = psum - a_sum * gq.zero[g].to(part_dtype)  # still exact integers on the INT8 path
        out += gq.scale[g].to(out_dtype) * corrected.to(out_dtype)
    return out


def _shift_add_matmul(a: torch.Tensor, q: torch.Tensor, bits: int) -> torch.Tensor:
    """``a @ q`` without multipliers: ``sum_j 2^j * (a @ bitplane_j(q))``.

    ``a @ bitplane`` only adds activations (the plane is 0/1), and ``* 2^j`` is the shift: a left shift
    for integers, an exact power-of-two scaling (exponent add) for floats.
    """
    out = torch.zeros(a.shape[0], q.shape[1], dtype=a.dtype)
    for j in range(bits):
        plane = ((q >> j) & 1).to(a.dtype)  # (G, N) of 0/1
        partial = a @ plane
        out += (partial << j) if not a.is_floating_point() else partial * float(1 << j)
    return out


def _group_slices(gq: GroupQuantized) -> list[slice]:
    return [slice(g * gq.group_size, (g + 1) * gq.group_size) for g in range(gq.n_groups)]
