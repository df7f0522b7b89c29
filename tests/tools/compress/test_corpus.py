"""Document splits, token windows and user corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tools.common import DataNotFoundError, InputError
from tools.compress.corpus import load_documents, split_documents, windows


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
