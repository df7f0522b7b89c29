"""Design points: BitFusion's throughput rule, PE energy per cycle, the published configuration."""

from __future__ import annotations

import pytest

from tools.mixpe.accelerators import DESIGN_NAMES, DESIGNS, PE_8_4, PE_16_16


@pytest.mark.parametrize(
    "design,act_bits,weight_bits,factors",
    [
        ("MixPE-A8", 8, 4, (1, 2)),  # two 4-bit weights per 8-bit activation
        ("MixPE-A8", 8, 8, (1, 1)),
        ("MixPE-A16", 16, 4, (1, 2)),  # a (16, 8) PE takes codes at 8 bits at the narrowest
        ("FP16", 16, 4, (1, 1)),  # computes on dequantised FP16 weights
        ("INT8", 8, 4, (1, 1)),  # widens 4-bit codes to INT8
        ("ANT", 4, 4, (2, 2)),
        ("BitFusion", 8, 8, (1, 1)),
    ],
)
def test_fusion_factors_follow_bitfusions_perf_factor(
    design: str, act_bits: int, weight_bits: int, factors: tuple[int, int]
) -> None:
    assert DESIGNS[design].fusion(act_bits, weight_bits) == factors


def test_pe_power_converts_to_energy_per_cycle_at_500_mhz() -> None:
    assert PE_8_4.dynamic_pj_per_cycle == pytest.approx(279960e-9 / 500e6 * 1e12)
    assert PE_16_16.leakage_pj_per_cycle == pytest.approx(0.385884)


def test_array_sizes_are_the_published_iso_area_configurations() -> None:
    arrays = {name: (DESIGNS[name].rows, DESIGNS[name].cols) for name in DESIGN_NAMES}
    assert arrays == {
        "MixPE-A8": (64, 64),
        "MixPE-A16": (32, 32),
        "FP16": (32, 28),
        "INT8": (32, 32),
        "BitFusion": (32, 40),
        "ANT": (32, 32),
    }


def test_labels_carry_the_weight_width() -> None:
    assert DESIGNS["MixPE-A8"].label(4) == "MixPE-W4A8"
    assert DESIGNS["MixPE-A16"].label(8) == "MixPE-W8A16"
    assert DESIGNS["ANT"].label(4) == "ANT"
