"""BM25 tokens and weights: identifiers and options stay whole, the maths matches the formula."""

from __future__ import annotations

import math

import pytest

from tools.docqa.lexical import B, K1, Bm25, doc_sparse, feedback_weights, query_sparse, term_id, tokenize


def test_identifiers_are_kept_whole_and_split() -> None:
    assert tokenize("set_routing_alpha") == ["set_routing_alpha", "set", "routing", "alpha"]


def test_options_keep_their_dash() -> None:
    assert tokenize("the -density option") == ["-density", "density", "option"]


def test_stop_words_go_and_plurals_are_stemmed() -> None:
    assert tokenize("What are the layers of policies") == ["layer", "policy"]


def test_doc_weights_follow_bm25_saturation() -> None:
    tokens = ["a1", "a1", "b2"]
    idx, val = doc_sparse(tokens, avgdl=3.0)
    weights = dict(zip(idx, val))
    norm = K1 * (1 - B + B * 3 / 3.0)
    assert weights[term_id("a1")] == pytest.approx(2 * (K1 + 1) / (2 + norm))
    assert weights[term_id("b2")] == pytest.approx(1 * (K1 + 1) / (1 + norm))


def test_query_vector_has_unique_sorted_indices() -> None:
    idx, val = query_sparse("density density -density")
    assert idx == sorted(set(idx))
    assert val == [1.0] * len(idx)


def test_in_memory_bm25_prefers_the_exact_command() -> None:
    docs = [tokenize(t) for t in ("set_routing_alpha sets alpha", "routing layers and alpha", "placement density")]
    scores = Bm25(docs).scores("set_routing_alpha")
    assert int(scores.argmax()) == 0
    assert scores[2] == 0.0


def test_in_memory_idf_matches_qdrant_formula() -> None:
    bm = Bm25([["x"], ["y"], ["y"]])
    assert bm.idf["x"] == pytest.approx(math.log((3 - 1 + 0.5) / (1 + 0.5) + 1))


def test_feedback_keeps_the_question_and_adds_the_top_pieces_terms() -> None:
    feedback = [("detailed_route droute_end_iter iterations", 9.0), ("unrelated gui colours", 1.0)]
    weights = feedback_weights("How many iterations does routing run?", feedback)
    assert weights["iteration"] > weights["droute_end_iter"] > 0  # in the question and the best piece
    assert weights.get("colour", 0.0) < weights["droute_end_iter"]  # the weaker piece counts less
    assert sum(weights.values()) == pytest.approx(1.0)
    assert set(tokenize("How many iterations does routing run?")) <= set(weights)


def test_feedback_on_a_question_without_terms_is_empty() -> None:
    assert feedback_weights("what is the", [("anything at all", 1.0)]) == {}
