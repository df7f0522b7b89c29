"""MoreauPruner's robustness study on the tiny model: one row per method x condition x seed, the fp32 mask
overlapping itself, and the summaries over seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.compress.robustness_study import RobustnessStudyArgs, run_robustness_study

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
