"""Indexes record which trained models built them, so a retrained model never meets stale vectors."""

from __future__ import annotations

import pytest

from tools.common import InputError
from tools.docqa.chunks import folder_sections, split_pieces, word_piece_counter
from tools.docqa.index import DocIndex, close_client, open_client
from tools.docqa.store import make_index, open_index


def test_an_index_built_with_another_model_is_not_current_until_reingested(docs_folder, embedder) -> None:
    count = word_piece_counter()
    pieces = [p for s in folder_sections(docs_folder) for p in split_pieces(s, count)]
    client = open_client(":memory:")
    DocIndex(client, "docs-finetuned", embedder, "finetuned@aaaa").ingest(pieces, "docs")
    newer = DocIndex(client, "docs-finetuned", embedder, "finetuned@bbbb")
    assert not newer.current()
    stats = newer.ingest(pieces, "docs")
    assert stats.embedded == len(pieces) and stats.unchanged == 0  # nothing reused across models
    assert newer.current()


def test_opening_a_user_corpus_built_with_other_models_asks_for_a_reingest(docs_folder, embedder, tmp_path) -> None:
    count = word_piece_counter()
    pieces = [p for s in folder_sections(docs_folder) for p in split_pieces(s, count)]
    store = tmp_path / "q"
    base = make_index(open_client(store), "mydocs", "base", False)
    assert base.embedder_name == "base" and base.reranker_name == ""
    DocIndex(open_client(store), "mydocs-base", embedder, "finetuned@old").ingest(pieces, "mydocs")
    with pytest.raises(InputError, match="ingest its folder again"):
        open_index("mydocs", "base", False, str(store))
    close_client(store)
