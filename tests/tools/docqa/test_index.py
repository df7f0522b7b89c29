"""The Qdrant index: hybrid search, incremental re-ingest, restart, and an interrupted ingest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.common import InputError
from tools.docqa.chunks import folder_sections, split_pieces, word_piece_counter
from tools.docqa.index import HYBRID_FUSION, RERANK_FUSION, DocIndex, Fusion, Hit, close_client, combine, open_client
from tools.docqa.lexical import Bm25, feedback_weights, tokenize


@pytest.fixture(scope="module")
def count():
    return word_piece_counter()


def _pieces(folder: Path, count):
    return [p for s in folder_sections(folder) for p in split_pieces(s, count)]


def _index(location, embedder, projection=None) -> DocIndex:
    return DocIndex(open_client(location), "docs-base", embedder, "base", projection, "test" if projection is not None else "")


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_each_retriever_finds_the_section_of_a_command(docs_folder, embedder, count, retriever) -> None:
    index = _index(":memory:", embedder)
    index.ingest(_pieces(docs_folder, count), "docs")
    hits = index.search("How do I set the alpha of set_routing_alpha for a net?", 3, retriever)
    assert hits[0].source == "src/grt/README.md"
    assert len({h.chunk_id for h in hits}) == len(hits)


def test_bm25_matches_an_exact_option_name(docs_folder, embedder, count) -> None:
    index = _index(":memory:", embedder)
    index.ingest(_pieces(docs_folder, count), "docs")
    (hit,) = index.search("-skip_io", 1, "bm25")
    assert hit.source == "src/gpl/README.md"


def test_reingest_reuses_unchanged_vectors_and_embeds_only_changes(docs_folder, embedder, count, tmp_path) -> None:
    index = _index(tmp_path / "q", embedder)
    first = index.ingest(_pieces(docs_folder, count), "docs")
    assert first.added == index.count() and first.embedded == first.added
    again = index.ingest(_pieces(docs_folder, count), "docs")
    assert (again.embedded, again.unchanged, again.collection) == (0, first.added, first.collection)
    build = docs_folder / "docs/user/Build.md"
    build.write_text(build.read_text().replace("docker image", "prebuilt binaries"))
    (docs_folder / "src/grt/README.md").unlink()
    third = index.ingest(_pieces(docs_folder, count), "docs")
    assert third.changed == 1 and third.embedded == 1 and third.removed > 0
    assert [c.name for c in index.client.get_collections().collections] == [third.collection]
    close_client(tmp_path / "q")


def test_index_survives_a_restart(docs_folder, embedder, count, tmp_path) -> None:
    index = _index(tmp_path / "q", embedder)
    index.ingest(_pieces(docs_folder, count), "docs")
    before = [h.chunk_id for h in index.search("target density", 3)]
    close_client(tmp_path / "q")
    reopened = _index(tmp_path / "q", embedder)
    assert [h.chunk_id for h in reopened.search("target density", 3)] == before
    assert reopened.metadata()["corpus"] == "docs"
    close_client(tmp_path / "q")


def test_an_interrupted_ingest_leaves_the_previous_index_usable(docs_folder, embedder, count, tmp_path) -> None:
    index = _index(tmp_path / "q", embedder)
    index.ingest(_pieces(docs_folder, count), "docs")
    before = index.search("install dependencies", 2)
    (docs_folder / "docs/user/Extra.md").write_text("# Extra\n\nA new page about sky130 platforms.\n")

    def crash(message: str, fraction: float) -> None:
        if message.startswith("embedding"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.ingest(_pieces(docs_folder, count), "docs", progress=crash)
    assert len(index.client.get_collections().collections) == 2  # the live one and the abandoned staging one
    assert [h.chunk_id for h in index.search("install dependencies", 2)] == [h.chunk_id for h in before]
    done = index.ingest(_pieces(docs_folder, count), "docs")
    assert done.added == 1
    assert [c.name for c in index.client.get_collections().collections] == [done.collection]
    close_client(tmp_path / "q")


def test_rerank_uses_the_late_vectors(docs_folder, embedder, count) -> None:
    identity = np.eye(embedder.dim, 128, dtype=np.float32)
    index = _index(":memory:", embedder, identity)
    index.ingest(_pieces(docs_folder, count), "docs")
    hits = index.search("alpha of the Steiner tree trade-off", 3, "hybrid", rerank=True)
    assert "rerank" in hits[0].ranks
    assert hits[0].source == "src/grt/README.md"


def test_search_before_ingest_and_rerank_without_vectors_are_input_errors(docs_folder, embedder, count) -> None:
    index = _index(":memory:", embedder)
    with pytest.raises(InputError, match="ingest"):
        index.search("x")
    index.ingest(_pieces(docs_folder, count), "docs")
    with pytest.raises(InputError, match="rerank"):
        index.search("x", rerank=True)


def _hit(cid: str, score: float) -> Hit:
    return Hit(cid, cid, "s", "t", "h", "x", score)


def test_combine_adds_weighted_min_max_normalised_scores() -> None:
    lists = {"dense": [_hit("a", 0.9), _hit("b", 0.5), _hit("c", 0.1)], "bm25": [_hit("b", 30.0), _hit("c", 10.0)]}
    fused = combine(lists, {"dense": 0.4, "bm25": 0.6})
    scores = {h.chunk_id: h.score for h in fused}
    assert scores["a"] == pytest.approx(0.4 * 1.0)  # not found by BM25: 0 there
    assert scores["b"] == pytest.approx(0.4 * 0.5 + 0.6 * 1.0)
    assert scores["c"] == pytest.approx(0.0)
    assert [h.chunk_id for h in fused] == ["b", "a", "c"]


def test_combine_follows_the_heavier_list() -> None:
    lists = {"dense": [_hit("a", 0.8), _hit("b", 0.2)], "bm25": [_hit("b", 9.0), _hit("a", 1.0)]}
    assert [h.chunk_id for h in combine(lists, {"dense": 1.0, "bm25": 2.0})] == ["b", "a"]
    assert [h.chunk_id for h in combine(lists, {"dense": 2.0, "bm25": 1.0})] == ["a", "b"]
    single = combine({"bm25": [_hit("z", 3.0)]}, {"bm25": 1.0})
    assert single[0].score == pytest.approx(1.0)  # one candidate: the top of its list


def test_fusing_one_first_stage_equals_searching_with_that_fusion(docs_folder, embedder, count) -> None:
    identity = np.eye(embedder.dim, 128, dtype=np.float32)
    index = _index(":memory:", embedder, identity)
    index.ingest(_pieces(docs_folder, count), "docs")
    query = "How do I install the dependencies before building?"
    cands = index.first_stage(query, "hybrid", rerank=True)
    for fusion, rerank in ((Fusion(), False), (Fusion(0.2, 0.6, 0.2, feedback=True), True)):
        fused = [h.chunk_id for h in index.fuse(cands, 3, rerank, fusion)]
        assert fused == [h.chunk_id for h in index.search(query, 3, "hybrid", rerank=rerank, fusion=fusion)]


def test_dev_tuned_settings_are_the_search_defaults(docs_folder, embedder, count) -> None:
    identity = np.eye(embedder.dim, 128, dtype=np.float32)
    index = _index(":memory:", embedder, identity)
    index.ingest(_pieces(docs_folder, count), "docs")
    query = "target density of global placement"
    for rerank, tuned in ((False, HYBRID_FUSION), (True, RERANK_FUSION)):
        expected = [h.chunk_id for h in index.search(query, 5, rerank=rerank, fusion=tuned)]
        assert [h.chunk_id for h in index.search(query, 5, rerank=rerank)] == expected


def test_feedback_reruns_bm25_with_the_rm3_weights_of_the_first_pass(docs_folder, embedder, count) -> None:
    """The Qdrant path equals the same two BM25 passes computed in memory."""
    pieces = _pieces(docs_folder, count)
    index = _index(":memory:", embedder)
    index.ingest(pieces, "docs")
    query = "How do I keep cells apart during placement?"
    bm = Bm25([tokenize(p.text) for p in pieces])
    first = bm.scores(query)
    top = [(pieces[i].text, float(first[i])) for i in np.argsort(-first)[:10] if first[i] > 0]
    weights = feedback_weights(query, top)
    second = np.zeros(len(pieces))
    for term, w in weights.items():
        for i, v in bm.postings.get(term, ()):
            second[i] += w * bm.idf[term] * v
    expected = list(dict.fromkeys(pieces[i].parent_id for i in np.argsort(-second) if second[i] > 0))[:3]
    hits = index.search(query, 3, "bm25", fusion=Fusion(feedback=True))
    assert len(weights) > len(set(tokenize(query)))  # the question was expanded
    assert [h.chunk_id for h in hits] == expected
