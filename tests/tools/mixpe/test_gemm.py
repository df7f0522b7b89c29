"""MixPE's functional GEMM model: both orders against torch.matmul, shift-and-add, op counts, validation."""

from __future__ import annotations

import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tools.mixpe.datapath import _shift_add_matmul, mixpe_gemm
from tools.mixpe.gemm import FP16_TOLERANCE, MixPEGemmArgs, conventional_op_counts, mixpe_op_counts, run_mixpe_gemm
from tools.mixpe.groupquant import GroupQuantized, dequantize_groupwise, quantize_groupwise


def _random_shape(rng: random.Random) -> dict[str, int]:
    group = rng.choice([16, 32, 64, 128])
    return {"m": rng.randint(1, 96), "k": group * rng.randint(1, 8), "n": rng.randint(1, 80), "group_size": group}


@pytest.mark.parametrize("seed", range(6))
def test_int8_path_equals_torch_matmul_bit_for_bit(seed: int) -> None:
    shape = _random_shape(random.Random(seed))
    r = run_mixpe_gemm(MixPEGemmArgs(**shape, weight_bits=random.Random(seed).choice([4, 8]), seed=seed))
    assert r.max_abs_error == {"conventional": 0.0, "mixpe": 0.0}
    assert r.passed and r.tolerance == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_fp16_path_is_within_fp16_rounding_and_mixpe_is_tighter(seed: int) -> None:
    shape = _random_shape(random.Random(100 + seed))
    r = run_mixpe_gemm(MixPEGemmArgs(**shape, activation="fp16", seed=seed))
    assert r.passed and r.tolerance == FP16_TOLERANCE
    assert max(r.max_rel_error.values()) <= FP16_TOLERANCE
    # MixPE's shift-and-add products are exact in FP32; the conventional order rounds weights to FP16
    assert r.max_rel_error["mixpe"] < r.max_rel_error["conventional"] / 10


def test_int8_path_stays_exact_at_the_largest_reduction_dimension() -> None:
    """K = 16384 with 8-bit codes: the float64 group sums still fit 53 significant bits."""
    r = run_mixpe_gemm(MixPEGemmArgs(m=2, k=16384, n=16, weight_bits=8))
    assert r.max_abs_error == {"conventional": 0.0, "mixpe": 0.0}


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 12),
    groups=st.integers(1, 4),
    group_size=st.sampled_from([1, 2, 8, 32]),
    n=st.integers(1, 12),
    bits=st.sampled_from([4, 8]),
    seed=st.integers(0, 2**16),
)
def test_int8_path_is_exact_for_any_small_shape(
    m: int, groups: int, group_size: int, n: int, bits: int, seed: int
) -> None:
    args = MixPEGemmArgs(m=m, k=groups * group_size, n=n, group_size=group_size, weight_bits=bits, seed=seed)
    r = run_mixpe_gemm(args)
    assert r.max_abs_error["mixpe"] == 0.0 and r.max_abs_error["conventional"] == 0.0


def test_the_check_catches_a_missing_zero_point_correction() -> None:
    """A test that cannot fail is a defect: dropping the zero points must break the equality."""
    gen = torch.Generator().manual_seed(0)
    gq = quantize_groupwise(torch.randn(128, 8, generator=gen, dtype=torch.float64), bits=4, group_size=32)
    acts = torch.randint(-128, 128, (4, 128), generator=gen)
    ref = acts.double() @ dequantize_groupwise(gq)
    broken = GroupQuantized(gq.q, gq.scale, torch.zeros_like(gq.zero), gq.bits, gq.group_size)
    assert torch.equal(mixpe_gemm(acts, gq), ref)
    assert not torch.allclose(mixpe_gemm(acts, broken), ref)


@pytest.mark.parametrize("bits", [4, 8])
def test_shift_and_add_equals_multiplication(bits: int) -> None:
    gen = torch.Generator().manual_seed(bits)
    a = torch.randint(-128, 128, (5, 16), generator=gen, dtype=torch.int32)
    q = torch.randint(0, 2**bits, (16, 7), generator=gen)
    assert torch.equal(_shift_add_matmul(a, q, bits), a @ q.to(torch.int32))
    af = torch.randn(5, 16, generator=gen).to(torch.float16).float()
    assert torch.allclose(_shift_add_matmul(af, q, bits), af @ q.float(), rtol=1e-6, atol=1e-4)


def _count_by_hand(acts: torch.Tensor, gq: GroupQuantized) -> dict[str, int]:
    """Walk MixPE's datapath scalar by scalar and count what it does."""
    ops = {"multiplies": 0, "shifts": 0, "adds": 0, "dequantizations": 0}
    m, k = acts.shape
    n = gq.q.shape[1]
    for row in range(m):
        for g in range(gq.n_groups):
            ops["adds"] += gq.group_size  # the group's activation sum, shared by all columns
            for col in range(n):
                for kk in range(g * gq.group_size, (g + 1) * gq.group_size):
                    for j in range(gq.bits):
                        if (int(gq.q[kk, col]) >> j) & 1:
                            ops["adds"] += 1
                            ops["shifts"] += j >= 1
                ops["multiplies"] += 2  # z * sum(a), then s * (psum - z * sum(a))
                ops["adds"] += 2  # the subtraction and the accumulation over groups
                ops["dequantizations"] += 1
    return ops


def test_mixpe_op_counts_match_a_scalar_walk_of_the_datapath() -> None:
    gen = torch.Generator().manual_seed(5)
    gq = quantize_groupwise(torch.randn(12, 3, generator=gen, dtype=torch.float64), bits=4, group_size=4)
    acts = torch.randint(-128, 128, (2, 12), generator=gen)
    assert mixpe_op_counts(2, gq).model_dump() == _count_by_hand(acts, gq)


def test_conventional_counts_one_dequantisation_per_weight_use() -> None:
    c = conventional_op_counts(3, 256, 5)
    assert c.dequantizations == 3 * 256 * 5 and c.multiplies == 2 * 3 * 256 * 5 and c.shifts == 0


@pytest.mark.parametrize("group_size", [32, 64, 128, 256])
def test_dequantisations_and_multiplies_drop_by_the_group_size(group_size: int) -> None:
    r = run_mixpe_gemm(MixPEGemmArgs(m=16, k=512, n=24, group_size=group_size))
    assert r.dequant_saving == group_size and r.multiply_saving == group_size
    assert r.op_counts["mixpe"].dequantizations == 16 * 24 * (512 // group_size)


def test_shift_work_follows_the_set_bits_of_the_codes() -> None:
    r = run_mixpe_gemm(MixPEGemmArgs(m=8, k=256, n=32))
    assert 1.0 < r.mean_set_bits < 3.0  # 4-bit codes centred near the zero point
    assert r.op_counts["mixpe"].shifts < r.op_counts["mixpe"].adds


def test_k_must_be_a_multiple_of_the_group_size() -> None:
    with pytest.raises(ValidationError, match=r"k: 300 is not accepted; expected a multiple of group_size=128") as err:
        MixPEGemmArgs(m=4, k=300, n=4)
    assert err.value.errors()[0]["loc"] == ("k",)


@pytest.mark.parametrize(
    "bad,field,accepted",
    [({"weight_bits": 3}, "weight_bits", "4 or 8"), ({"activation": "bf16"}, "activation", "'int8' or 'fp16'")],
)
def test_bad_precisions_name_the_field_and_the_accepted_values(bad: dict, field: str, accepted: str) -> None:
    with pytest.raises(ValidationError) as err:
        MixPEGemmArgs(**bad)
    assert err.value.errors()[0]["loc"] == (field,)
    assert accepted in str(err.value)


def test_oversized_and_unknown_arguments_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"m\*k\*n <= 2\^30"):
        MixPEGemmArgs(m=4096, k=16384, n=4096)
    with pytest.raises(ValidationError, match="extra"):
        MixPEGemmArgs(shape="4x4x4")
