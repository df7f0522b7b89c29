"""``evaluate_model`` on the tiny model: every number of ``ModelQuality`` is filled and consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.compress.evaluate_tool import EvaluateModelArgs, run_evaluate_model


def test_measures_perplexity_proxies_size_and_latency(tiny_llama: Path) -> None:
    r = run_evaluate_model(EvaluateModelArgs(model=str(tiny_llama), eval_tokens=256, eval_seq_len=32, proxy_items=4))
    q = r.quality
    assert 100 < q.perplexity < 2000  # random 320-token model: near-uniform predictions
    assert 0.0 <= q.cloze_acc <= 1.0 and 0.0 <= q.next_sentence_acc <= 1.0
    assert q.blocks == 6 and q.size_mb == pytest.approx(q.params * 4 / 2**20)
    assert q.latency_ms > 0 and r.model == str(tiny_llama)


def test_zero_budget_skips_the_measurements(tiny_llama: Path) -> None:
    q = run_evaluate_model(
        EvaluateModelArgs(model=str(tiny_llama), eval_tokens=0, proxy_items=0, latency=False)
    ).quality
    assert (q.perplexity, q.cloze_acc, q.latency_ms) == (None, None, None)
