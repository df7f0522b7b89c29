"""Markdown and ORD-QA chunking: heading paths, code blocks kept whole, windows within the token budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.common import InputError
from tools.docqa.chunks import folder_sections, markdown_sections, ordqa_sections, split_pieces


def words(text: str) -> int:
    """A stand-in token counter: one token per whitespace-separated word."""
    return len(text.split())


def test_sections_keep_the_heading_path_and_drop_empty_headings() -> None:
    md = "# Tool\n\nIntro text.\n\n## Commands\n\n### Run It\n\nBody of run.\n"
    secs = markdown_sections(md, "src/tool/README.md")
    assert [s.headings for s in secs] == [("Tool",), ("Tool", "Commands", "Run It")]
    assert secs[1].title == "Tool"
    assert secs[1].text().startswith("Tool > Commands > Run It\n\nBody of run.")
    assert [s.id for s in secs] == ["src/tool/README.md#0", "src/tool/README.md#1"]


def test_hash_lines_inside_code_blocks_are_not_headings() -> None:
    md = "# Tool\n\n```tcl\n# a comment, not a heading\nrun_it -x 1\n```\n"
    (sec,) = markdown_sections(md, "a.md")
    assert "# a comment, not a heading" in sec.body


def test_heading_markup_is_cleaned() -> None:
    (sec,) = markdown_sections("# The `gpl` [tool](x.md)\n\ntext here\n", "a.md")
    assert sec.headings == ("The gpl tool",)


def test_pieces_respect_the_budget_and_keep_code_blocks_whole() -> None:
    code = "```\n" + "\n".join(f"    [-opt{i} value]" for i in range(10)) + "\n```"
    body = "\n\n".join(["word " * 30, code, "more " * 30])
    (sec,) = markdown_sections(f"# T\n\n{body}\n", "a.md")
    pieces = split_pieces(sec, words, max_tokens=60)
    assert all(words(p.text) <= 60 for p in pieces)
    assert any(code in p.text for p in pieces)
    assert {p.parent_id for p in pieces} == {sec.id}
    assert [p.index for p in pieces] == list(range(len(pieces)))
    assert all(p.text.startswith("T\n\n") for p in pieces)


def test_a_code_block_longer_than_a_window_is_cut_at_lines() -> None:
    code = "```\n" + "\n".join(f"line{i} a b c" for i in range(40)) + "\n```"
    (sec,) = markdown_sections(f"# T\n\n{code}\n", "a.md")
    pieces = split_pieces(sec, words, max_tokens=30)
    assert len(pieces) > 1
    assert all(words(p.text) <= 30 for p in pieces)
    assert "line39" in pieces[-1].text


def test_piece_hash_changes_with_text_only() -> None:
    (sec,) = markdown_sections("# T\n\nhello world\n", "a.md")
    (same,) = markdown_sections("# T\n\nhello world\n", "a.md")
    (other,) = markdown_sections("# T\n\nhello there\n", "a.md")
    assert split_pieces(sec, words)[0].hash == split_pieces(same, words)[0].hash
    assert split_pieces(sec, words)[0].hash != split_pieces(other, words)[0].hash


def test_folder_sections_reads_nested_markdown(docs_folder: Path) -> None:
    secs = folder_sections(docs_folder)
    assert {s.source for s in secs} == {"src/gpl/README.md", "src/grt/README.md", "docs/user/Build.md"}


def test_folder_without_markdown_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no markdown here")
    with pytest.raises(InputError, match="markdown"):
        folder_sections(tmp_path)
    with pytest.raises(InputError, match="folder"):
        folder_sections(tmp_path / "missing")


def test_ordqa_chunks_keep_their_ids_and_headings(tmp_path: Path) -> None:
    corpus = [
        {
            "source": "global_placement",
            "amount": 1,
            "knowledge": [{"summary": "", "id": "global_placement_1", "content": "id:global_placement_1\n### Global Placement\n\nBody `-density`.\n"}],
        }
    ]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(corpus))
    (sec,) = ordqa_sections(path)
    assert sec.id == "global_placement_1"
    assert sec.source == "OpenROAD/src/gpl/README.md"
    assert sec.headings == ("Global Placement",)
    assert sec.body == "Body `-density`."
