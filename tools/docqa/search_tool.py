"""Tools ``docqa_search`` and ``docqa_answer``: retrieve documentation sections, answer with citations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report
from tools.docqa.answer import compose_answer, defines_option, looks_english, named_options
from tools.docqa.index import Hit
from tools.docqa.store import open_index

__all__ = (
    "DocQASearchArgs",
    "DocQASearchResult",
    "DocQAAnswerArgs",
    "DocQAAnswerResult",
    "SearchHit",
    "AnswerCitation",
    "run_docqa_search",
    "run_docqa_answer",
)

_VERSIONS = ("qdrant-client", "transformers", "torch")


class _IndexArgs(BaseModel):
    corpus: str = Field(
        default="openroad",
        description="Which documentation: 'openroad' (shipped OpenROAD + flow-scripts docs), 'ord-qa' (RAG-EDA's "
        "290-chunk corpus) or the name of a folder ingested with docqa_ingest.",
    )
    retriever: Literal["dense", "bm25", "hybrid"] = Field(
        default="hybrid", description="dense (MiniLM cosine), bm25 (exact terms) or hybrid (reciprocal-rank fusion)."
    )
    embedder: Literal["auto", "base", "finetuned"] = Field(
        default="auto", description="Sentence embedder; auto = the fine-tuned one when it has been trained."
    )
    rerank: bool | None = Field(
        default=None, description="Late-interaction reranking of every first-stage section; None = when trained."
    )
    index_path: str | None = Field(default=None, description="Embedded Qdrant folder; default under the user data folder.")
    qdrant_url: str | None = Field(default=None, description="Qdrant server URL; overrides index_path.")


class DocQASearchArgs(_IndexArgs):
    """Arguments of ``run_docqa_search``."""

    query: str = Field(description="What to look for in the documentation.")
    top_k: int = Field(default=5, ge=1, le=50, description="Sections to return.")

    @field_validator("query")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the query is empty: ask about an OpenROAD command, option, flow step or install topic")
        return v.strip()


class SearchHit(BaseModel):
    rank: int
    chunk_id: str = Field(description="Section id (ORD-QA chunk id for the ord-qa corpus).")
    source: str = Field(description="Documentation file, relative to the corpus root.")
    heading: str
    score: float = Field(description="Fused score (weighted sum of normalised list scores, 0..1 per weight).")
    ranks: dict[str, int] = Field(default_factory=dict, description="Rank in each list that found it.")
    snippet: str = Field(description="Start of the best-matching piece.")


class DocQASearchResult(ToolResult):
    query: str
    corpus: str
    retriever: str
    embedder: str
    reranked: bool
    hits: list[SearchHit]
    search_ms: float = Field(description="Retrieval (+ reranking) time. In milliseconds.")


def _hits(found: list[Hit]) -> list[SearchHit]:
    return [
        SearchHit(
            rank=i,
            chunk_id=h.chunk_id,
            source=h.source,
            heading=h.heading,
            score=round(h.score, 5),
            ranks=h.ranks,
            snippet=" ".join(h.text.split("\n\n", 1)[-1].split())[:240],
        )
        for i, h in enumerate(found, start=1)
    ]


def run_docqa_search(args: DocQASearchArgs, progress: ProgressFn | None = None) -> DocQASearchResult:
    """Top-k documentation sections for a query, with scores and sources."""
    with Timer() as total:
        index = open_index(args.corpus, args.embedder, args.rerank, args.index_path, args.qdrant_url, progress)
        reranked = index.can_rerank()
        with Timer() as t:
            found = index.search(args.query, args.top_k, args.retriever, rerank=reranked)
        report(progress, "searched", 1.0)
    return DocQASearchResult(
        query=args.query,
        corpus=args.corpus,
        retriever=args.retriever,
        embedder=index.embedder_name,
        reranked=reranked,
        hits=_hits(found),
        search_ms=round(1000 * t.seconds, 1),
        seconds=total.seconds,
        versions=package_versions(*_VERSIONS),
    )


class DocQAAnswerArgs(_IndexArgs):
    """Arguments of ``run_docqa_answer``."""

    question: str = Field(description="The user's question about the documented tools.")
    sections: int = Field(default=3, ge=1, le=10, description="Retrieved sections the answer may draw on.")
    max_sentences: int = Field(default=4, ge=1, le=12, description="Sentences or option rows in the answer.")

    @field_validator("question")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the question is empty: ask about an OpenROAD command, option, flow step or install topic")
        return v.strip()


class AnswerCitation(BaseModel):
    n: int = Field(description="The [n] used in the answer.")
    chunk_id: str
    source: str
    heading: str


class DocQAAnswerResult(ToolResult):
    question: str
    corpus: str
    english: bool = Field(description="False when the question does not look English (the docs are English).")
    answer: str = Field(description="Extractive answer, each sentence followed by its [n] citation.")
    code: str | None = Field(default=None, description="Command syntax block copied from a cited section.")
    citations: list[AnswerCitation]
    markdown: str = Field(description="The answer, code block and numbered source list, ready to show.")
    hits: list[SearchHit]
    embedder: str
    reranked: bool
    search_ms: float = Field(description="Retrieval (+ reranking) time. In milliseconds.")


def _answer_sections(question: str, found: list[Hit], n: int, text: Callable[[str], str]) -> list[tuple[str, str, str, str]]:
    """``(chunk_id, source, heading, text)`` of the first ``n`` retrieved sections, plus the best-ranked later one
    that defines an option the question names (a tutorial that uses ``-density`` can outrank the option table
    that defines it); later sections' text is read only while looking for that definition."""
    asked = named_options(question)
    top = [(h.chunk_id, h.source, h.heading, text(h.chunk_id)) for h in found[:n]]
    if asked and not any(defines_option(s[3], asked) for s in top):
        later = ((h.chunk_id, h.source, h.heading, text(h.chunk_id)) for h in found[n:])
        definition = next((s for s in later if defines_option(s[3], asked)), None)
        if definition is not None:
            top.append(definition)
    return top


def run_docqa_answer(args: DocQAAnswerArgs, progress: ProgressFn | None = None) -> DocQAAnswerResult:
    """Retrieve, rerank and compose an extractive answer with numbered citations (source file + heading)."""
    with Timer() as total:
        english = looks_english(args.question)
        index = open_index(args.corpus, args.embedder, args.rerank, args.index_path, args.qdrant_url, progress)
        reranked = index.can_rerank()
        with Timer() as t:
            found = index.search(args.question, max(args.sections, 5), args.retriever, rerank=reranked)
        if not found:
            raise InputError("question", args.question, "a question whose terms appear in the documentation")
        sections = _answer_sections(args.question, found, args.sections, index.section_text)
        composed = compose_answer(args.question, sections, index.embedder, max_units=args.max_sentences)
        markdown = composed.markdown
        if not english:
            markdown = (
                "This question does not look like English. The OpenROAD documentation is in English only, so the "
                "sections below were matched on the command and option names it contains; please ask in English "
                "for a better answer.\n\n" + markdown
            )
        report(progress, "answered", 1.0)
    return DocQAAnswerResult(
        question=args.question,
        corpus=args.corpus,
        english=english,
        answer=composed.text,
        code=composed.code,
        citations=[AnswerCitation(**c.__dict__) for c in composed.citations],
        markdown=markdown,
        hits=_hits(found),
        embedder=index.embedder_name,
        reranked=reranked,
        search_ms=round(1000 * t.seconds, 1),
        seconds=total.seconds,
        versions=package_versions(*_VERSIONS),
    )
