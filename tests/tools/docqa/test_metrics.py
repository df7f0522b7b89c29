"""Recall@k, MRR, BLEU and ROUGE-L against hand-computed values."""

from __future__ import annotations

import math

import pytest

from tools.docqa.metrics import corpus_bleu, recall_at_k, reciprocal_rank, rouge_l


def test_recall_counts_the_fraction_of_gold_in_top_k() -> None:
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, ["b", "d"], 1) == 0.0
    assert recall_at_k(ranked, ["b", "d"], 2) == 0.5
    assert recall_at_k(ranked, ["b", "d"], 4) == 1.0
    with pytest.raises(ValueError):
        recall_at_k(ranked, [], 1)


def test_reciprocal_rank_of_first_gold() -> None:
    assert reciprocal_rank(["a", "b", "c"], ["c", "b"]) == 0.5
    assert reciprocal_rank(["a"], ["z"]) == 0.0


def test_bleu_is_100_for_identical_text_and_0_without_4gram_overlap() -> None:
    text = "global placement sets the target density of cells"
    assert corpus_bleu([text], [text]) == pytest.approx(100.0)
    assert corpus_bleu(["a b c"], ["d e f"]) == 0.0


def test_bleu_brevity_penalty() -> None:
    ref = "one two three four five six seven eight"
    cand = "one two three four"  # all n-grams match, c = 4, r = 8
    assert corpus_bleu([cand], [ref]) == pytest.approx(100 * math.exp(1 - 8 / 4))


def test_rouge_l_from_the_lcs() -> None:
    # LCS("the cat sat on the mat", "the cat on the mat") = 5 tokens
    p, r = 5 / 6, 5 / 5
    assert rouge_l("the cat sat on the mat", "the cat on the mat") == pytest.approx(2 * p * r / (p + r))
    assert rouge_l("", "x") == 0.0
