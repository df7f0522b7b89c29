"""MoreauPruner's robustness study on the tiny model: one row per method x condition x seed, the fp32 mask
overlapping itself, and the summaries over seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.compress.robustness_study import RobustnessRow, RobustnessStudyArgs, run_robustness_study, summarise

SMALL = {"seq_len": 16, "calib_samples": 2, "eval_tokens": 128, "eval_seq_len": 32, "steps": 2, "average_last": 1}


def test_rows_overlaps_and_summaries(tiny_llama: Path) -> None:
    args = RobustnessStudyArgs(
        model=str(tiny_llama), corpus="pydoc", conditions=["fp32", "fp16", "noise"], seeds=[0, 1], **SMALL
    )
    r = run_robustness_study(args)
    assert len(r.rows) == 2 * 3 * 2
    fp32 = [row for row in r.rows if row.condition == "fp32"]
    assert all(row.kv_overlap == 1.0 and row.channel_overlap == 1.0 for row in fp32)
    assert all(0.0 <= row.channel_overlap <= 1.0 and row.perplexity > 1 for row in r.rows)
    assert {(s.method, s.condition) for s in r.summaries} == {
        (m, c) for m in ("taylor", "moreau") for c in ("fp32", "fp16", "noise")
    }
    taylor = next(s for s in r.summaries if s.method == "taylor" and s.condition == "fp32")
    assert taylor.perplexity == pytest.approx(
        sum(row.perplexity for row in fp32 if row.method == "taylor") / 2
    )
    assert r.dense_perplexity > 1 and set(r.ppl_spread) == {"taylor", "moreau"}


def test_summaries_merge_studies_run_one_seed_at_a_time() -> None:
    def row(seed: int, cond: str, ppl: float, ch: float) -> RobustnessRow:
        return RobustnessRow(
            method="taylor", seed=seed, condition=cond, kv_overlap=1.0, channel_overlap=ch, perplexity=ppl, seconds=1
        )

    rows = [row(0, "fp32", 30.0, 1.0), row(0, "bf16", 33.0, 0.8), row(1, "fp32", 31.0, 1.0), row(1, "bf16", 31.0, 0.6)]
    summaries, spread = summarise(rows)
    bf16 = next(s for s in summaries if s.condition == "bf16")
    assert bf16.channel_overlap == pytest.approx(0.7) and bf16.channel_overlap_sd == pytest.approx(0.1414, abs=1e-4)
    assert bf16.perplexity == pytest.approx(32.0)
    assert spread == {"taylor": pytest.approx((3.0 + 0.0) / 2)}
