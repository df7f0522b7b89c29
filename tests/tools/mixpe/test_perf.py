"""The iso-area performance/energy model: closed forms, the published ballpark, normalisation, validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.mixpe.accelerators import DESIGNS
from tools.mixpe.perf import MixPEPerfArgs, MixPEPerfResult, gemm_cost, run_mixpe_perf
from tools.mixpe.transformer_shapes import GemmShape

SIMULATOR_NORM_TIME = {"MixPE-A8": 0.10, "ANT": 0.40, "BitFusion": 0.68, "INT8": 0.86}
"""Time / FP16 on OPT-6.7B and LLaMA-2-13B from the MixPE authors' simulator output
(github.com/yuzhang712/mixpe_simulator, results/mixpe_res.csv, last block)."""


def _run(tmp_path: Path, **kwargs: object) -> MixPEPerfResult:
    return run_mixpe_perf(MixPEPerfArgs(plot=False, out_dir=str(tmp_path), **kwargs))


def test_compute_cycles_follow_the_closed_form() -> None:
    """64x64 MixPE at W4A8: K/64 row tiles x N/(64*2) column tiles, each M*(1 + 1/8/128) cycles, plus fill."""
    cost = gemm_cost(DESIGNS["MixPE-A8"], GemmShape("t", m=256, k=512, n=256), weight_bits=4, group_size=128)
    assert cost.compute_cycles == pytest.approx(8 * 2 * 256 * (1 + 1 / 8 / 128) + 64 + 64)
    fp16 = gemm_cost(DESIGNS["FP16"], GemmShape("t", m=256, k=512, n=280), weight_bits=4, group_size=128)
    assert fp16.compute_cycles == pytest.approx(16 * 10 * 256 * (1 + 1 / 8) + 32 + 28)


@pytest.mark.parametrize("model", ["OPT-6.7B", "LLaMA-2-13B"])
def test_normalised_times_land_on_the_published_simulator_results(tmp_path: Path, model: str) -> None:
    rows = {d.design: d for d in _run(tmp_path, model=model).designs}
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
    assert per_weight / per_group == pytest.approx((1 + 1 / 8) / (1 + 1 / 8 / 128), rel=1e-4)


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
