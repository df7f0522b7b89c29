"""The four doc-QA tools end to end on a tiny ingested corpus, and their clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.common import InputError
from tools.docqa.index_tool import DocQAIngestArgs, DocQAStatsArgs, run_docqa_ingest, run_docqa_stats
from tools.docqa.search_tool import DocQAAnswerArgs, DocQASearchArgs, run_docqa_answer, run_docqa_search


@pytest.fixture
def store(docs_folder: Path, tmp_path: Path, embedder) -> str:
    """A Qdrant folder holding the tiny corpus as 'mydocs' (base embedder, no reranker)."""
    path = str(tmp_path / "qdrant")
    result = run_docqa_ingest(DocQAIngestArgs(folder=str(docs_folder), name="mydocs", embedder="base", index_path=path))
    assert (result.corpus, result.index, result.added) == ("mydocs", "mydocs-base", result.pieces)
    return path


def test_search_returns_ranked_sources(store: str) -> None:
    r = run_docqa_search(DocQASearchArgs(query="set_routing_alpha", corpus="mydocs", top_k=2, index_path=store))
    assert [h.rank for h in r.hits] == [1, 2]
    assert r.hits[0].source == "src/grt/README.md" and r.embedder == "base" and not r.reranked
    assert r.search_ms > 0


def test_answer_cites_the_gpl_readme(store: str) -> None:
    r = run_docqa_answer(
        DocQAAnswerArgs(question="What does the -density option of global_placement do?", corpus="mydocs", index_path=store)
    )
    assert "Set target density" in r.answer
    assert r.citations[0].source == "src/gpl/README.md"
    assert "[1] src/gpl/README.md" in r.markdown and r.english


def test_a_question_in_another_language_gets_a_clear_note(store: str) -> None:
    r = run_docqa_answer(DocQAAnswerArgs(question="全局布局 global_placement 的 -density 是什么？", corpus="mydocs", index_path=store))
    assert not r.english
    assert r.markdown.startswith("This question does not look like English")


def test_stats_lists_the_index(store: str) -> None:
    r = run_docqa_stats(DocQAStatsArgs(index_path=store))
    (info,) = r.indexes
    assert (info.index, info.corpus, info.embedder, info.reranker) == ("mydocs-base", "mydocs", "base", "none")
    assert not r.finetuned_embedder


def test_reingest_of_an_unchanged_folder_embeds_nothing(store: str, docs_folder: Path) -> None:
    r = run_docqa_ingest(DocQAIngestArgs(folder=str(docs_folder), name="mydocs", embedder="base", index_path=store))
    assert r.embedded == 0 and r.unchanged == r.pieces


def test_empty_question_is_rejected_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="question"):
        DocQAAnswerArgs(question="   ")
    with pytest.raises(ValidationError, match="query"):
        DocQASearchArgs(query="")


def test_folder_without_markdown_and_bad_names_are_input_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="markdown"):
        run_docqa_ingest(DocQAIngestArgs(folder=str(empty), index_path=str(tmp_path / "q")))
    with pytest.raises(InputError, match="built-in"):
        run_docqa_ingest(DocQAIngestArgs(folder=str(empty), name="openroad", index_path=str(tmp_path / "q")))


def test_unknown_corpus_and_untrained_models_are_input_errors(store: str) -> None:
    with pytest.raises(InputError, match="corpus"):
        run_docqa_search(DocQASearchArgs(query="x", corpus="nope", embedder="base", index_path=store))
    with pytest.raises(InputError, match="finetuned"):
        run_docqa_search(DocQASearchArgs(query="x", corpus="mydocs", embedder="finetuned", index_path=store))
