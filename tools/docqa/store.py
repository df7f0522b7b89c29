"""Where the documentation QA stack keeps its corpora, trained models and indexes, and how it opens them.

Built-in corpora:
- ``openroad``: the OpenROAD and OpenROAD-flow-scripts markdown shipped as package data in ``openroad-docs/``
  beside this module (BSD-3-Clause, licences beside them), the agent's default;
- ``ord-qa``: RAG-EDA's 290-chunk ``openroad_documentation.json`` from the shared data, whose chunk ids the
  ORD-QA gold labels use.
Any other name is a corpus the user ingested from a folder of markdown.

Trained models live under ``user_data_dir()/docqa/models``: the fine-tuned embedder (a transformers folder)
and one reranker projection per embedder. ``train_models`` builds them from the CSV triples and
pseudo-queries of the shipped documentation only, never from benchmark questions.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tools.common import DataNotFoundError, InputError, ProgressFn, report, shared_data_dir, user_data_dir
from tools.docqa.chunks import Piece, Section, folder_sections, ordqa_sections, split_pieces, word_piece_counter
from tools.docqa.index import DocIndex, open_client
from tools.docqa.rerank import Teacher, load_projection, save_projection, train_reranker
from tools.embedding import Embedder, default_embedder_path, load_embedder

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

__all__ = (
    "EmbedderName",
    "BUILTIN_CORPORA",
    "models_dir",
    "finetuned_path",
    "reranker_path",
    "corpus_sections",
    "corpus_pieces",
    "resolve_embedder",
    "open_index",
    "make_index",
    "train_models",
    "EMBEDDER_RECIPE",
    "ModelReport",
)

EmbedderName = Literal["base", "finetuned"]
BUILTIN_CORPORA = ("openroad", "ord-qa")
SHIPPED_DOCS = Path(__file__).resolve().parent / "openroad-docs"  # package data, so an installed wheel has it


def models_dir() -> Path:
    return user_data_dir() / "docqa" / "models"


def finetuned_path() -> Path:
    return models_dir() / "embedder-finetuned"


def reranker_path(embedder: EmbedderName) -> Path:
    return models_dir() / f"reranker-{embedder}.npz"


def corpus_sections(corpus: str) -> list[Section]:
    """Sections of a built-in corpus.

    Raises:
        InputError: ``corpus`` is not built in (ingest a folder under that name instead).
        DataNotFoundError: ``ord-qa`` without the shared data.
    """
    if corpus == "openroad":
        if not SHIPPED_DOCS.is_dir():
            raise DataNotFoundError(f"the shipped OpenROAD docs are missing at {SHIPPED_DOCS}; reinstall ChipCrew")
        return folder_sections(SHIPPED_DOCS)
    if corpus == "ord-qa":
        return ordqa_sections(shared_data_dir("ord-qa") / "openroad_documentation.json")
    raise InputError("corpus", corpus, f"one of {', '.join(BUILTIN_CORPORA)} or a folder ingested under that name")


def corpus_pieces(sections: list[Section]) -> list[Piece]:
    count = word_piece_counter()
    return [p for s in sections for p in split_pieces(s, count)]


def resolve_embedder(name: EmbedderName | Literal["auto"]) -> tuple[Embedder, EmbedderName]:
    """The embedder ``name``; ``auto`` is the fine-tuned one when it has been trained, else the base.

    Raises:
        InputError: ``finetuned`` before it was trained (``chipcrew bench docqa`` trains it).
    """
    if name == "auto":
        name = "finetuned" if (finetuned_path() / "config.json").is_file() else "base"
    if name == "finetuned":
        if not (finetuned_path() / "config.json").is_file():
            raise InputError(
                "embedder", "finetuned", "'base', or train it first with 'chipcrew bench docqa --embedder finetuned'"
            )
        return load_embedder(finetuned_path()), "finetuned"
    return load_embedder(default_embedder_path()), "base"


def _fingerprint(path: Path) -> str:
    """First 12 hex digits of a file's SHA-256: tells one training run's model from another's."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "unrecorded"


def make_index(client: QdrantClient, corpus: str, embedder: EmbedderName | Literal["auto"], rerank: bool | None) -> DocIndex:
    """The ``<corpus>-<embedder>`` index object (built or not) with the reranker when trained and wanted.

    The names recorded in the index carry a fingerprint of the trained models (``finetuned@<sha>``), so an
    index built with an earlier fine-tune or reranker is re-embedded instead of silently mixing models.

    Raises:
        InputError: ``rerank=True`` before the reranker was trained.
    """
    model, name = resolve_embedder(embedder)
    proj_file = reranker_path(name)
    if rerank and not proj_file.is_file():
        raise InputError("rerank", True, "False, or train the reranker first with 'chipcrew bench docqa --rerank'")
    projection = load_projection(proj_file) if (rerank is not False and proj_file.is_file()) else None
    tag = f"finetuned@{_fingerprint(finetuned_path() / 'training.json')}" if name == "finetuned" else name
    late = f"{proj_file.name}@{_fingerprint(proj_file)}" if projection is not None else ""
    return DocIndex(client, f"{corpus}-{name}", model, tag, projection, late)


def open_index(
    corpus: str,
    embedder: EmbedderName | Literal["auto"] = "auto",
    rerank: bool | None = None,
    index_path: str | None = None,
    qdrant_url: str | None = None,
    progress: ProgressFn | None = None,
) -> DocIndex:
    """The index of ``corpus`` with that embedder, (re)built now for a built-in corpus that has none or a stale one.

    Args:
        rerank: True needs a trained reranker; None uses it when it exists (``auto``).
    """
    index = make_index(open_client(index_path, url=qdrant_url), corpus, embedder, rerank)
    if (not index.exists() or not index.current()) and corpus in BUILTIN_CORPORA:
        report(progress, f"building the {corpus} index (first use or new models)", 0.0)
        index.ingest(corpus_pieces(corpus_sections(corpus)), corpus, progress)
    elif not index.exists():
        raise InputError("corpus", corpus, f"one of {', '.join(BUILTIN_CORPORA)} or a corpus ingested with docqa_ingest")
    elif not index.current():
        built, now = index.metadata().get("embedder"), index.embedder_name
        raise InputError(
            "corpus", corpus, f"an index built with the current models ({built} then, {now} now): ingest its folder again with docqa_ingest"
        )
    return index


@dataclass
class ModelReport:
    embedder: dict[str, float]
    rerankers: dict[str, dict[str, float]]
    seconds: float


EMBEDDER_RECIPE: dict[str, int] = {"epochs": 1, "train_layers": 4, "max_csv": 1500, "max_docs": 2000}
"""Fine-tuning schedule (``tools.docqa.finetune.finetune_embedder``), chosen on the development set
(``eval/dev_docqa.py``): against the first, lighter recipe (top 2 blocks, 960 CSV and 320 document triples,
50 steps) the dense retriever's dev objective rose from 0.886 to 0.905 and the hybrid's from 0.936 to 0.939."""


def train_models(
    csv_path: Path,
    exclude: set[str] | None = None,
    seed: int = 0,
    force: bool = False,
    teacher: Teacher | None = None,
    progress: ProgressFn | None = None,
) -> ModelReport:
    """Train what is missing or stale: the fine-tuned embedder, then a reranker projection for each embedder.

    Training data: ``csv_path`` (RAG-EDA's contrastive triples, minus ``exclude``d texts) and the
    pseudo-queries of the shipped OpenROAD docs (training split); nothing from any benchmark file.
    The embedder is retrained when its recorded recipe differs from ``EMBEDDER_RECIPE``, and the fine-tuned
    embedder's reranker with it. A ``teacher`` (e.g. an LLM with RAG-EDA's rubric) replaces the offline
    labels and retrains the rerankers.
    """
    from tools.docqa.finetune import doc_triples, finetune_embedder, load_contrastive_csv
    from tools.docqa.pseudo import pseudo_queries, split_dev

    start = time.perf_counter()
    sections = corpus_sections("openroad")
    pieces = corpus_pieces(sections)
    train, _ = split_dev(pseudo_queries(sections, seed=seed))
    out = ModelReport({}, {}, 0.0)
    record = finetuned_path() / "training.json"
    recipe = {**EMBEDDER_RECIPE, "seed": seed}
    trained = (finetuned_path() / "config.json").is_file() and record.is_file()
    if force or not trained or json.loads(record.read_text()).get("recipe") != recipe:
        triples, artefacts, excluded = load_contrastive_csv(csv_path, exclude)
        docs = doc_triples(pieces, train, seed=seed)
        stats = finetune_embedder(
            default_embedder_path(), finetuned_path(), triples, docs, **recipe, progress=lambda m, f: report(progress, m, 0.6 * f)
        )
        stats.update(csv_triples=float(len(triples)), csv_artefacts=float(artefacts), csv_excluded=float(excluded), doc_triples=float(len(docs)))
        record.write_text(json.dumps({**stats, "recipe": recipe}, indent=2))
        out.embedder = stats
        load_embedder.cache_clear()
    for name in ("base", "finetuned"):
        path = reranker_path(name)  # type: ignore[arg-type]
        retrain = force or teacher is not None or (name == "finetuned" and bool(out.embedder))
        if path.is_file() and not retrain:
            continue
        model, _ = resolve_embedder(name)  # type: ignore[arg-type]
        proj, stats = train_reranker(
            model, pieces, train, teacher=teacher, seed=seed, progress=lambda m, f: report(progress, m, 0.6 + 0.2 * f)
        )
        save_projection(path, proj, {k: float(v) for k, v in stats.items()})
        out.rerankers[name] = stats
    out.seconds = time.perf_counter() - start
    return out
