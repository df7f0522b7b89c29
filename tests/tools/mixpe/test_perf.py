"""The iso-area performance/energy model: closed forms, the published ballpark, normalisation, validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.mixpe.accelerators import DESIGNS
from tools.mixpe.perf import MixPEPerfArgs, MixPEPerfResult, datapath, gemm_cost, precision_mix, run_mixpe_perf
from tools.mixpe.transformer_shapes import GemmShape

SIMULATOR_NORM_TIME = {"MixPE-A8": 0.10, "MixPE-A16": 0.19, "ANT": 0.40, "BitFusion": 0.68, "INT8": 0.86}
"""Time / FP16 on OPT-6.7B and LLaMA-2-13B from the MixPE authors' simulator output
(github.com/yuzhang712/mixpe_simulator, results/mixpe_res.csv, last block), on its own workload and dataflow."""


def _run(tmp_path: Path, **kwargs: object) -> MixPEPerfResult:
    return run_mixpe_perf(MixPEPerfArgs(plot=False, out_dir=str(tmp_path), **kwargs))


def test_compute_cycles_follow_the_closed_form() -> None:
    """64x64 MixPE at W4A8: K/64 row tiles x N/(64*2) column tiles, each M*(1 + 1/8/128 * 2) cycles, plus fill
    (a dequantisation MAC runs at 8 x 8 bits, half the rate of the W4A8 MACs it serves)."""
    cost = gemm_cost(DESIGNS["MixPE-A8"], GemmShape("t", m=256, k=512, n=256), weight_bits=4, group_size=128)
    assert cost.compute_cycles == pytest.approx(8 * 2 * 256 * (1 + 2 / 8 / 128) + 64 + 64)
    fp16 = gemm_cost(DESIGNS["FP16"], GemmShape("t", m=256, k=512, n=280), weight_bits=4, group_size=128)
    assert fp16.compute_cycles == pytest.approx(16 * 10 * 256 * (1 + 1 / 8) + 32 + 28)


@pytest.mark.parametrize("model", ["OPT-6.7B", "LLaMA-2-13B"])
def test_normalised_times_land_on_the_published_simulator_results(tmp_path: Path, model: str) -> None:
    rows = {d.design: d for d in _run(tmp_path, model=model, convention="simulator", batch=64).designs}
    for design, published in SIMULATOR_NORM_TIME.items():
        assert rows[design].norm_time == pytest.approx(published, rel=0.1), design


@pytest.mark.parametrize("model", ["ViT-Base", "ViT-Huge", "OPT-6.7B", "LLaMA-2-13B"])
def test_mixpe_w4a8_is_fastest_and_most_frugal(tmp_path: Path, model: str) -> None:
    r = _run(tmp_path, model=model)
    best_time = min(r.designs, key=lambda d: d.time_ms)
    best_energy = min(r.designs, key=lambda d: d.energy_mj["total"])
    assert best_time.design == best_energy.design == "MixPE-A8"


def test_energy_saving_against_ant_matches_the_papers_headline(tmp_path: Path) -> None:
    """MixPE's abstract: 1.4x energy reduction over the state-of-the-art quantisation accelerators."""
    r = _run(tmp_path, model="LLaMA-2-13B", designs=["ANT"], baseline="ANT")
    assert 1.2 < r.energy_reduction < 1.6 and r.speedup > 2.6


def test_results_are_normalised_to_the_baseline(tmp_path: Path) -> None:
    r = _run(tmp_path, model="ViT-Base", baseline="INT8")
    base = next(d for d in r.designs if d.design == "INT8")
    assert base.norm_time == 1.0 and base.norm_energy["total"] == pytest.approx(1.0)
    for d in r.designs:
        parts = sum(d.norm_energy[p] for p in ("core", "buffer", "dram", "static"))
        assert parts == pytest.approx(d.norm_energy["total"])
        assert d.speedup == pytest.approx(1 / d.norm_time)
    focus = next(d for d in r.designs if d.design == "MixPE-A8")
    assert (r.speedup, r.energy_reduction) == (focus.speedup, focus.energy_reduction)


def test_baseline_and_focus_are_always_modelled(tmp_path: Path) -> None:
    r = _run(tmp_path, designs=["ANT"], baseline="INT8", activation="fp16")
    assert [d.design for d in r.designs] == ["MixPE-A16", "INT8", "ANT"]
    assert r.focus_label == "MixPE-W4A16"


def test_per_group_dequantisation_keeps_mixpe_compute_nearly_free_of_overhead() -> None:
    g = GemmShape("t", m=2048, k=4096, n=4096)
    per_group = gemm_cost(DESIGNS["MixPE-A8"], g, 4, group_size=128).compute_cycles
    per_weight = gemm_cost(DESIGNS["MixPE-A8"], g, 4, group_size=1).compute_cycles
    assert per_weight / per_group == pytest.approx((1 + 2 / 8) / (1 + 2 / 8 / 128), rel=1e-4)


def test_decoding_one_token_is_modelled_and_weights_dominate_dram(tmp_path: Path) -> None:
    w4 = {d.design: d for d in _run(tmp_path, model="OPT-6.7B", seq_len=1).designs}
    w8 = {d.design: d for d in _run(tmp_path, model="OPT-6.7B", seq_len=1, weight_bits=8).designs}
    assert w8["MixPE-A8"].energy_mj["dram"] / w4["MixPE-A8"].energy_mj["dram"] == pytest.approx(2.0, rel=0.1)
    assert w4["MixPE-A8"].speedup > 1


def test_artefacts_hold_the_per_gemm_breakdown_and_the_plot(tmp_path: Path) -> None:
    r = run_mixpe_perf(MixPEPerfArgs(model="ViT-Base", out_dir=str(tmp_path)))
    data = json.loads(Path(r.artifacts["json"]).read_text())
    assert set(data["per_gemm"]["FP16"]) == {"QKV", "O", "FFN1", "FFN2"}
    assert Path(r.artifacts["plot"]).stat().st_size > 10_000


def test_weight_bits_3_names_the_field_and_the_accepted_values() -> None:
    with pytest.raises(ValidationError) as err:
        MixPEPerfArgs.model_validate({"weight_bits": 3})
    assert err.value.errors()[0]["loc"] == ("weight_bits",)
    assert "Input should be 4 or 8" in str(err.value)


def test_unknown_model_and_design_list_the_accepted_names() -> None:
    with pytest.raises(ValidationError, match="'ViT-Base', 'ViT-Huge', 'OPT-6.7B' or 'LLaMA-2-13B'"):
        MixPEPerfArgs(model="llama-2-13b")
    with pytest.raises(ValidationError, match="'BitFusion' or 'ANT'"):
        MixPEPerfArgs(designs=["TPU"])
    with pytest.raises(ValidationError, match="designs: \\[\\] is not accepted"):
        MixPEPerfArgs(designs=[])


def test_speedup_over_int8_splits_into_pe_count_packing_and_dequantisation(tmp_path: Path) -> None:
    """The demo's ratio: 4x the PEs in the same area, 2 vs 1 MACs per PE (INT8 widens W4 to W8A8), 1.125/1.002."""
    r = _run(tmp_path, model="OPT-6.7B", designs=["INT8"], baseline="INT8")
    f = r.speedup_factors
    assert (f["pe_count"], f["packing"]) == (4.0, 2.0)
    assert f["dequant"] == pytest.approx((1 + 1 / 8) / (1 + 2 / 8 / 128))
    assert f["pe_count"] * f["packing"] * f["dequant"] * f["other"] == pytest.approx(r.speedup)
    assert f["other"] == pytest.approx(1.0, abs=0.01)  # a 2048-token prefill is compute-bound
    int8 = next(d for d in r.designs if d.design == "INT8")
    assert int8.datapath.startswith("W8A8: the 4-bit weights widened to INT8")


def test_equal_pe_count_leaves_only_the_per_pe_gain(tmp_path: Path) -> None:
    r = _run(tmp_path, model="OPT-6.7B", designs=["INT8"], baseline="INT8", array="equal_pe")
    assert {d.array for d in r.designs} == {"32x32"} and r.speedup_factors["pe_count"] == 1.0
    assert r.speedup == pytest.approx(2.0 * (1 + 1 / 8) / (1 + 2 / 8 / 128), rel=0.01)


def test_one_token_decode_is_bound_by_moving_weights_not_by_macs(tmp_path: Path) -> None:
    r = _run(tmp_path, model="OPT-6.7B", designs=["INT8"], baseline="INT8", seq_len=1)
    assert r.tokens == 1 and r.speedup_factors["other"] < 0.6  # each 1-row pass waits for the next weight tile
    assert r.speedup == pytest.approx(4.0, rel=0.02)  # 64x64 vs 32x32 arrays load 4x the weights per cycle


def test_simulator_convention_runs_its_workload_and_operand_widths(tmp_path: Path) -> None:
    r = _run(tmp_path, model="ViT-Base", convention="simulator", batch=64)
    data = json.loads(Path(r.artifacts["json"]).read_text())
    assert r.tokens == 64 and set(data["per_gemm"]["FP16"]) == {"patch", "QKV", "O", "FFN1", "FFN2"}
    mix = precision_mix(DESIGNS["MixPE-A8"], "OPT-6.7B", GemmShape("QKV", 64, 4096, 12288), 4, "simulator")
    assert mix == ((1.0, 4, 4),)  # int48_bench.py lists W4A8 GEMMs at precision 4 for both operands
    assert precision_mix(DESIGNS["MixPE-A8"], "OPT-6.7B", GemmShape("QKV", 64, 4096, 12288), 4) == ((1.0, 8, 4),)


def test_ant_falls_back_to_w8a8_in_the_blocks_the_simulator_lists() -> None:
    mix = precision_mix(DESIGNS["ANT"], "LLaMA-2-13B", GemmShape("O", 1, 5120, 5120), 4)
    assert mix == ((1 - 8 / 40, 4, 4), (8 / 40, 8, 8))
    assert "20% of the blocks at W8A8" in datapath(DESIGNS["ANT"], "LLaMA-2-13B", 4, 128)


def test_output_stationary_batch_64_half_fills_the_64x64_mixpe_array() -> None:
    """The simulator's dataflow: M tiled by rows * fk = 64 * 2 activation rows, so 64 tokens use half of them."""
    g = GemmShape("t", m=64, k=4096, n=4096)
    mix = ((1.0, 4, 4),)
    os_cost = gemm_cost(DESIGNS["MixPE-A8"], g, 4, 128, mix, dataflow="output_stationary")
    assert os_cost.compute_cycles == pytest.approx(1 * 4096 / 128 * 4096 * (1 + 4 / 8 / 128) + 128)
