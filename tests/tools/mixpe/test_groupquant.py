"""Group-wise weight quantisation: code ranges, reconstruction error, exact dequantisation, errors."""

from __future__ import annotations

import pytest
import torch

from tools.common import InputError
from tools.mixpe.groupquant import dequantize_groupwise, quantize_groupwise


@pytest.mark.parametrize("bits,group_size", [(4, 128), (4, 32), (8, 64), (3, 16)])
def test_codes_and_zero_points_stay_in_range(bits: int, group_size: int) -> None:
    w = torch.randn(256, 24, generator=torch.Generator().manual_seed(bits), dtype=torch.float64)
    gq = quantize_groupwise(w, bits=bits, group_size=group_size)
    qmax = 2**bits - 1
    assert gq.q.shape == (256, 24) and gq.scale.shape == gq.zero.shape == (256 // group_size, 24)
    assert int(gq.q.min()) >= 0 and int(gq.q.max()) <= qmax
    assert int(gq.zero.min()) >= 0 and int(gq.zero.max()) <= qmax
    assert gq.scale.dtype == torch.float16 and bool((gq.scale > 0).all())


def test_reconstruction_error_is_at_most_one_step() -> None:
    w = torch.randn(512, 40, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.02
    gq = quantize_groupwise(w, bits=4, group_size=128)
    err = (dequantize_groupwise(gq) - w).abs()
    step = gq.expand(gq.scale.to(torch.float64))
    assert bool((err <= step * (1 + 1e-9)).all())
    assert float((err / step).mean()) < 0.3  # round-to-nearest: about a quarter step on average


def test_dequantised_values_are_exact_in_float32() -> None:
    """An FP16 scale times a 4-bit difference has at most 15 significant bits: exact in FP32 and FP64."""
    w = torch.randn(256, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    exact = dequantize_groupwise(quantize_groupwise(w, bits=4, group_size=64))
    assert torch.equal(exact.to(torch.float32).to(torch.float64), exact)


def test_group_size_must_divide_k() -> None:
    with pytest.raises(InputError, match="group_size: 100 .*divisor of K=256"):
        quantize_groupwise(torch.zeros(256, 4), group_size=100)
