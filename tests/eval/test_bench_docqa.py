"""The ORD-QA benchmark's loaders, hold-out check, scoring and report (the full run is a benchmark, not a test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.bench_docqa import CATEGORIES, Question, _score, csv_overlap, load_ordqa, to_markdown


def test_ordqa_loads_90_stripped_questions_with_unescaped_answers() -> None:
    qs = load_ordqa()
    assert len(qs) == 90 and {q.category for q in qs} == set(CATEGORIES)
    assert all(q.text == q.text.strip() and q.gold for q in qs)
    assert not any("\\n" in q.answer for q in qs)
    assert sum(len(q.gold) for q in qs) == 161


def test_csv_overlap_counts_rows_repeating_a_question(tmp_path: Path) -> None:
    qs = [Question(1, "functionality", "How do I run gpl?", ("global_placement_0",), "a")]
    path = tmp_path / "c.csv"
    path.write_text("sent0,sent1,hard_neg\n how do I run GPL? ,x,y\nother,x,y\n")
    wanted, hits = csv_overlap(path, qs)
    assert hits == 1 and wanted == {"how do i run gpl"}


def test_score_averages_recall_over_questions() -> None:
    qs = [Question(1, "functionality", "q", ("a", "b"), ""), Question(2, "vlsi_flow", "q", ("c",), "")]
    m = _score(qs, [["a", "x", "b"], ["x", "c"]], [0.010, 0.030])
    assert m["recall@1"] == pytest.approx((0.5 + 0.0) / 2)
    assert m["recall@5"] == pytest.approx(1.0)
    assert m["mrr"] == pytest.approx((1.0 + 0.5) / 2)
    assert m["p50_ms"] == pytest.approx(30.0)


def test_markdown_puts_rag_eda_beside_ours() -> None:
    row = {"config": "hybrid / base", "recall@1": 0.5, "recall@5": 0.8, "recall@10": 0.85, "recall@20": 0.9, "mrr": 0.6, "p50_ms": 40, "p95_ms": 60}
    payload = {
        "config": "hybrid / base",
        "overall": {**row, "bleu": 10.0, "rouge_l": 0.3},
        "per_category": {c: {"n": 1, **row} for c in CATEGORIES},
        "ablation": [row],
        "index_build_s": {"ordqa-base": 30.0},
        "holdout": {"csv_rows_repeating_a_question": 0, "questions_used_for_training": 0},
    }
    md = to_markdown(payload)
    assert "| hybrid / base | 0.500 | 0.800 |" in md and "0.522 -> 0.671" in md and "ROUGE-L 0.300" in md
