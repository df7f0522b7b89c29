"""Tools ``docqa_ingest`` and ``docqa_stats``: (re-)index a folder of markdown, show what is indexed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions
from tools.docqa.chunks import folder_sections
from tools.docqa.index import default_index_path, open_client
from tools.docqa.store import BUILTIN_CORPORA, corpus_pieces, corpus_sections, finetuned_path, make_index, reranker_path

__all__ = ("DocQAIngestArgs", "DocQAIngestResult", "DocQAStatsArgs", "DocQAStatsResult", "IndexInfo", "run_docqa_ingest", "run_docqa_stats")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class DocQAIngestArgs(BaseModel):
    """Arguments of ``run_docqa_ingest``."""

    folder: str | None = Field(
        default=None, description="Folder of markdown (.md) files to index; omit to rebuild a built-in corpus."
    )
    name: str | None = Field(
        default=None,
        description="Corpus name to search it by (lower-case letters, digits, '-', '_'); default: the folder's "
        "name, or 'openroad' without a folder.",
    )
    embedder: Literal["auto", "base", "finetuned"] = Field(default="auto", description="Sentence embedder for the index.")
    rerank: bool | None = Field(default=None, description="Also store reranker token vectors; None = when trained.")
    index_path: str | None = Field(default=None, description="Embedded Qdrant folder; default under the user data folder.")
    qdrant_url: str | None = Field(default=None, description="Qdrant server URL; overrides index_path.")


class DocQAIngestResult(ToolResult):
    corpus: str
    source: str = Field(description="Folder or file the sections were read from.")
    sections: int
    pieces: int = Field(description="Index points: sections cut to the embedder's 256-token window.")
    added: int
    changed: int
    unchanged: int = Field(description="Pieces whose content hash matched: their vectors were reused.")
    removed: int
    embedded: int
    index: str = Field(description="Alias of the index (corpus-embedder).")


def run_docqa_ingest(args: DocQAIngestArgs, progress: ProgressFn | None = None) -> DocQAIngestResult:
    """Index a folder of markdown (or rebuild a built-in corpus) incrementally; readers never see a half index."""
    with Timer() as t:
        if args.folder:
            folder = Path(args.folder).expanduser()
            name = args.name or re.sub(r"[^a-z0-9_-]+", "-", folder.resolve().name.lower()).strip("-") or "docs"
            if name in BUILTIN_CORPORA:
                raise InputError("name", name, f"a name other than the built-in corpora {', '.join(BUILTIN_CORPORA)}")
            sections = folder_sections(folder)
            source = str(folder)
        else:
            name = args.name or "openroad"
            sections = corpus_sections(name)
            source = f"built-in corpus {name}"
        if not _NAME.match(name) or "__" in name:
            raise InputError("name", name, "lower-case letters, digits, '-' and '_' (no '__'), starting with a letter or digit")
        index = make_index(open_client(args.index_path, url=args.qdrant_url), name, args.embedder, args.rerank)
        pieces = corpus_pieces(sections)
        stats = index.ingest(pieces, name, progress)
    return DocQAIngestResult(
        corpus=name,
        source=source,
        sections=len(sections),
        pieces=len(pieces),
        added=stats.added,
        changed=stats.changed,
        unchanged=stats.unchanged,
        removed=stats.removed,
        embedded=stats.embedded,
        index=index.name,
        seconds=t.seconds,
        versions=package_versions("qdrant-client", "transformers", "torch"),
    )


class DocQAStatsArgs(BaseModel):
    """Arguments of ``run_docqa_stats``."""

    index_path: str | None = Field(default=None, description="Embedded Qdrant folder; default under the user data folder.")
    qdrant_url: str | None = Field(default=None, description="Qdrant server URL; overrides index_path.")


class IndexInfo(BaseModel):
    index: str
    corpus: str
    embedder: str
    reranker: str
    sections: int
    pieces: int
    built: str


class DocQAStatsResult(ToolResult):
    location: str = Field(description="Qdrant folder or server URL.")
    indexes: list[IndexInfo]
    finetuned_embedder: bool = Field(description="Whether the fine-tuned embedder has been trained.")
    rerankers: list[str] = Field(description="Embedders that have a trained reranker.")


def run_docqa_stats(args: DocQAStatsArgs, progress: ProgressFn | None = None) -> DocQAStatsResult:
    """What is indexed where, with which embedder and reranker, and which models are trained."""
    with Timer() as t:
        client = open_client(args.index_path, url=args.qdrant_url)
        infos = []
        for alias in sorted(client.get_aliases().aliases, key=lambda a: a.alias_name):
            meta = client.get_collection(alias.collection_name).config.metadata or {}
            infos.append(
                IndexInfo(
                    index=alias.alias_name,
                    corpus=str(meta.get("corpus", "")),
                    embedder=str(meta.get("embedder", "")),
                    reranker=str(meta.get("reranker", "")) or "none",
                    sections=int(meta.get("sections", 0)),
                    pieces=client.count(alias.collection_name, exact=True).count,
                    built=str(meta.get("built", "")),
                )
            )
    return DocQAStatsResult(
        location=args.qdrant_url or str(args.index_path or default_index_path()),
        indexes=infos,
        finetuned_embedder=(finetuned_path() / "config.json").is_file(),
        rerankers=[n for n in ("base", "finetuned") if reranker_path(n).is_file()],  # type: ignore[arg-type]
        seconds=t.seconds,
        versions=package_versions("qdrant-client"),
    )
