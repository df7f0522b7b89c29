"""The late-interaction reranker: MaxSim, and distillation that fits the teacher's ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.docqa.chunks import folder_sections, split_pieces, word_piece_counter
from tools.docqa.pseudo import pseudo_queries
from tools.docqa.rerank import LATE_DIM, load_projection, maxsim, offline_teacher, save_projection, train_reranker


def test_maxsim_is_the_mean_of_row_maxima() -> None:
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    d = np.array([[1.0, 0.0], [0.6, 0.8]])
    assert maxsim(q, d) == pytest.approx((1.0 + 0.8) / 2)
    assert maxsim(q, np.zeros((0, 2))) == 0.0


def test_offline_teacher_scores_the_own_section_100() -> None:
    teacher = offline_teacher({"q": {"own text"}})
    assert list(teacher("q", ["own text", "other"])) == [100.0, 0.0]


def test_training_fits_the_teacher_and_round_trips(docs_folder: Path, embedder, tmp_path: Path) -> None:
    secs = folder_sections(docs_folder)
    count = word_piece_counter()
    pieces = [p for s in secs for p in split_pieces(s, count)]
    queries = [q for q in pseudo_queries(secs) if q.kind != "ict"][:16]
    proj, stats = train_reranker(embedder, pieces, queries, candidates=5, epochs=3, batch_size=8, lr=1e-2)
    assert proj.shape == (embedder.dim, LATE_DIM)
    assert stats["loss_after"] < stats["loss_before"]
    save_projection(tmp_path / "r.npz", proj, stats)
    assert np.array_equal(load_projection(tmp_path / "r.npz"), proj)


def test_a_flat_teacher_gives_nothing_to_learn(docs_folder: Path, embedder) -> None:
    secs = folder_sections(docs_folder)
    pieces = [p for s in secs for p in split_pieces(s, word_piece_counter())]
    with pytest.raises(ValueError, match="flat"):
        train_reranker(embedder, pieces, pseudo_queries(secs)[:3], teacher=lambda q, texts: [50.0] * len(texts), epochs=1)
