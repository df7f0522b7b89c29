"""The Qdrant index: hybrid search, incremental re-ingest, restart, and an interrupted ingest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.common import InputError
from tools.docqa.chunks import folder_sections, split_pieces, word_piece_counter
from tools.docqa.index import HYBRID_FUSION, RERANK_FUSION, DocIndex, Fusion, Hit, close_client, open_client, rrf


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


def test_rrf_adds_reciprocal_ranks() -> None:
    def hit(cid: str) -> Hit:
        return Hit(cid, cid, "s", "t", "h", "x", 0.0)

    fused = rrf([[hit("a"), hit("b")], [hit("b"), hit("c")]], k=60)
    assert [h.chunk_id for h in fused] == ["b", "a", "c"]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)


def test_rrf_weights_scale_each_list() -> None:
    def hit(cid: str) -> Hit:
        return Hit(cid, cid, "s", "t", "h", "x", 0.0)

    lists = [[hit("a"), hit("b")], [hit("b"), hit("a")]]
    assert [h.chunk_id for h in rrf(lists, k=60, weights=[1.0, 2.0])] == ["b", "a"]
    assert [h.chunk_id for h in rrf(lists, k=60, weights=[2.0, 1.0])] == ["a", "b"]


def test_fusing_one_first_stage_equals_searching_with_that_fusion(docs_folder, embedder, count) -> None:
    identity = np.eye(embedder.dim, 128, dtype=np.float32)
    index = _index(":memory:", embedder, identity)
    index.ingest(_pieces(docs_folder, count), "docs")
    query = "How do I install the dependencies before building?"
    cands = index.first_stage(query, "hybrid", rerank=True)
    for fusion, rerank in ((Fusion(), False), (Fusion(bm25_weight=3.0, rerank_weight=0.5, pool=2), True)):
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
