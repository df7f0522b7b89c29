"""Markdown documentation -> retrievable chunks, the way ORD-QA's corpus is chunked.

A *section* is the text under one heading (``#`` to ``####``), with the headings above it kept as its path
(``Global Placement > Commands > Global Placement``), as RAG-EDA's ``openroad_documentation.json`` repeats the
parent title in front of each section. A section longer than the embedder's window (256 word pieces for
all-MiniLM-L6-v2) is cut into *pieces* at paragraph boundaries, never inside a fenced code block unless the
block alone is longer than a window; each piece keeps a pointer (``parent_id``) to its section, which is the
unit that is cited and scored against gold chunk ids.

ORD-QA's pre-chunked corpus is read with its own chunk ids (``global_placement_1``), so recall can be scored
against the benchmark's gold labels.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.common import InputError

__all__ = (
    "Section",
    "Piece",
    "TokenCounter",
    "ORDQA_SOURCE_FILES",
    "markdown_sections",
    "folder_sections",
    "ordqa_sections",
    "split_pieces",
    "word_piece_counter",
)

TokenCounter = Callable[[str], int]
"""Number of model tokens in a text (without the [CLS]/[SEP] specials)."""

MAX_PIECE_TOKENS = 256 - 2  # all-MiniLM-L6-v2's max_seq_length minus [CLS] and [SEP]
_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_ORDQA_ID_LINE = re.compile(r"^id:\S+\s*\n")

ORDQA_SOURCE_FILES: dict[str, str] = {
    "install": "OpenROAD/docs/user/Build.md",
    "scripts": "OpenROAD-flow-scripts/docs/index.md",
    "get_start": "OpenROAD/README.md",
    "tapcell_insertion": "OpenROAD/src/tap/README.md",
    "code_generator": "OpenROAD/src/odb/src/codeGenerator/README.md",
    "add_new_fileds": "OpenROAD/src/odb/doc/OpenDB-AddFieldsInDbObjects.md",
    "unit_test": "OpenROAD/src/odb/test/unitTestsPython/README.md",
    "database": "OpenROAD/src/odb/README.md",
    "partition_manager": "OpenROAD/src/par/README.md",
    "global_routing": "OpenROAD/src/grt/README.md",
    "flute": "OpenROAD/src/stt/src/flt/README.md",
    "clock_tree_synthesis": "OpenROAD/src/cts/README.md",
    "chip-level_connections": "OpenROAD/src/pad/README.md",
    "restructure": "OpenROAD/src/rmp/README.md",
    "floorplan_initialization": "OpenROAD/src/rmp/README.md",  # ORD-QA's known defect: rmp text, not ifp
    "detailed_routing": "OpenROAD/src/drt/README.md",
    "pin_placement": "OpenROAD/src/ppl/README.md",
    "global_placement": "OpenROAD/src/gpl/README.md",
    "gate_resizing": "OpenROAD/src/rsz/README.md",
    "gui": "OpenROAD/src/gui/README.md",
    "antenna_rule_checker": "OpenROAD/src/ant/README.md",
    "metal_fill": "OpenROAD/src/fin/README.md",
    "detailed_placement": "OpenROAD/src/dpl/README.md",
    "macro_placement": "OpenROAD/src/mpl/README.md",
    "hierarchical_macro_placement": "OpenROAD/src/mpl2/README.md",
    "parasitics_extraction": "OpenROAD/src/rcx/README.md",
    "exrraction_rules_generation_flow_for_openrcx": "OpenROAD/src/rcx/doc/calibration.md",
    "IR_Drop_analysis": "OpenROAD/src/psm/README.md",
    "read_UPF_utility": "OpenROAD/src/upf/README.md",
    "power_distribution_network_generator": "OpenROAD/src/pdn/README.md",
    "vsrc_description": "OpenROAD/src/psm/doc/Vsrc_description.md",
    "flow-scripts-tutorial": "OpenROAD-flow-scripts/docs/tutorials/FlowTutorial.md",
}
"""ORD-QA source key -> the documentation file it was cut from (from ``shared/data/ord-qa/README.md``)."""


@dataclass(frozen=True)
class Section:
    """One heading's text: the unit that is cited and scored.

    Attributes:
        id: stable id, ``<source>_<n>`` for ORD-QA, ``<relative path>#<n>`` for markdown folders.
        source: the documentation file it comes from, relative to the corpus root.
        title: the document's title (its first ``#`` heading, or the ORD-QA source name).
        headings: the heading path, outermost first.
        body: the section text without the heading lines.
    """

    id: str
    source: str
    title: str
    headings: tuple[str, ...]
    body: str

    @property
    def heading(self) -> str:
        return " > ".join(self.headings) if self.headings else self.title

    @property
    def path(self) -> str:
        """The heading path led by the document title unless the path already starts with it."""
        if self.headings and self.headings[0].lower() == self.title.lower():
            return self.heading
        return f"{self.title} > {self.heading}" if self.headings else self.title

    def text(self) -> str:
        """What a reader sees: the title, the heading path and the body."""
        return f"{self.path}\n\n{self.body}".strip()


@dataclass(frozen=True)
class Piece:
    """A window of a section short enough for the embedder; what the index stores as one point."""

    id: str
    parent_id: str
    index: int
    source: str
    title: str
    heading: str
    text: str

    @property
    def hash(self) -> str:
        """Content hash deciding whether a re-ingest must re-embed this piece (SHA-256 of id and text)."""
        return hashlib.sha256(f"{self.id}\n{self.source}\n{self.heading}\n{self.text}".encode()).hexdigest()


def _lines_outside_fences(text: str) -> Iterator[tuple[str, bool]]:
    """Each line with whether it lies inside a fenced code block."""
    fence: str | None = None
    for line in text.splitlines():
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            yield line, True
        elif fence is not None:
            yield line, True
            if line.strip().startswith(fence):
                fence = None
        else:
            yield line, False


def markdown_sections(text: str, source: str, id_prefix: str | None = None) -> list[Section]:
    """Split one markdown document at its headings; sections with an empty body are dropped.

    Args:
        text: the markdown.
        source: the file's path relative to the corpus root (cited in answers).
        id_prefix: prefix of the section ids; default ``source``.
    """
    prefix = id_prefix or source
    stack: list[tuple[int, str]] = []
    title = ""
    body: list[str] = []
    current: tuple[str, ...] = ()
    sections: list[Section] = []

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            sections.append(Section(f"{prefix}#{len(sections)}", source, title or Path(source).stem, current, content))
        body.clear()

    for line, in_code in _lines_outside_fences(text):
        match = None if in_code else _HEADING.match(line)
        if match is None:
            body.append(line)
            continue
        flush()
        level, name = len(match.group(1)), _clean_heading(match.group(2))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
        if level == 1 and not title:
            title = name
        current = tuple(h for _, h in stack)
    flush()
    return sections


def _clean_heading(text: str) -> str:
    """Heading text without markdown links, emphasis or code ticks."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[`*_]{1,2}([^`*]+?)[`*_]{1,2}", r"\1", text).strip()


def folder_sections(folder: Path) -> list[Section]:
    """Sections of every ``*.md`` file under ``folder`` (sorted paths, so ids are stable).

    Raises:
        InputError: ``folder`` does not exist or holds no markdown.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("folder", str(folder), "an existing folder of markdown (.md) files")
    files = sorted(p for p in folder.rglob("*.md") if p.is_file())
    if not files:
        raise InputError("folder", str(folder), "a folder containing at least one markdown (.md) file")
    out: list[Section] = []
    for path in files:
        rel = path.relative_to(folder).as_posix()
        out += markdown_sections(path.read_text(encoding="utf-8", errors="replace"), rel)
    return out


def ordqa_sections(path: Path) -> list[Section]:
    """ORD-QA's ``openroad_documentation.json``: one section per chunk, keeping its chunk id.

    The ``id:<chunk id>`` first line is dropped; the headings inside the chunk become its heading path.
    """
    docs = json.loads(Path(path).read_text(encoding="utf-8"))
    out: list[Section] = []
    for doc in docs:
        source = doc["source"]
        file = ORDQA_SOURCE_FILES.get(source, source)
        for chunk in doc["knowledge"]:
            content = _ORDQA_ID_LINE.sub("", chunk["content"], count=1)
            headings: list[str] = []
            body: list[str] = []
            for line, in_code in _lines_outside_fences(content):
                match = None if in_code or body else _HEADING.match(line)
                if match:
                    headings.append(_clean_heading(match.group(2)))
                elif line.strip() or body:
                    body.append(line)
            title = source.replace("_", " ").replace("-", " ")
            out.append(Section(chunk["id"], file, title, tuple(headings), "\n".join(body).strip()))
    return out


def word_piece_counter() -> TokenCounter:
    """Token counts with the default embedder's own WordPiece tokenizer (no model weights loaded)."""
    from transformers import AutoTokenizer

    from tools.embedding import default_embedder_path

    tokenizer = AutoTokenizer.from_pretrained(default_embedder_path())
    tokenizer.model_max_length = 1 << 30  # counting only: long texts are split by the caller, not truncated
    return lambda text: len(tokenizer.tokenize(text))


def split_pieces(section: Section, count: TokenCounter, max_tokens: int = MAX_PIECE_TOKENS) -> list[Piece]:
    """Cut a section into pieces of at most ``max_tokens`` (heading path included in every piece).

    Paragraphs (blank-line separated, a fenced code block counting as one paragraph) are packed greedily;
    a paragraph longer than a window on its own is cut at line boundaries, and a line longer than a window
    at word boundaries, so no piece exceeds the window.
    """
    head = section.path
    budget = max(max_tokens - count(head) - 2, 16)
    units: list[tuple[str, int]] = []
    for block in _paragraphs(section.body):
        n = count(block)
        if n <= budget:
            units.append((block, n))
        else:
            units += _split_long(block, count, budget)
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for text, n in units:
        if current and used + n > budget:
            pieces.append("\n\n".join(current))
            current, used = [], 0
        current.append(text)
        used += n
    if current or not pieces:
        pieces.append("\n\n".join(current))
    return [
        Piece(
            id=f"{section.id}/{i}",
            parent_id=section.id,
            index=i,
            source=section.source,
            title=section.title,
            heading=section.heading,
            text=f"{head}\n\n{body}".strip(),
        )
        for i, body in enumerate(pieces)
    ]


def _paragraphs(body: str) -> list[str]:
    """Blank-line separated blocks; a fenced code block stays one block whatever it contains."""
    blocks: list[str] = []
    current: list[str] = []
    for line, in_code in _lines_outside_fences(body):
        if not in_code and not line.strip():
            if current:
                blocks.append("\n".join(current))
                current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _split_long(block: str, count: TokenCounter, budget: int) -> list[tuple[str, int]]:
    """A block longer than the window: lines packed greedily; an over-long line cut at word boundaries."""
    out: list[tuple[str, int]] = []
    current: list[str] = []
    used = 0
    for line in block.splitlines():
        parts = [line] if count(line) <= budget else _split_words(line, count, budget)
        for part in parts:
            n = count(part) + 1
            if current and used + n > budget:
                out.append(("\n".join(current), used))
                current, used = [], 0
            current.append(part)
            used += n
    if current:
        out.append(("\n".join(current), used))
    return out


def _split_words(line: str, count: TokenCounter, budget: int) -> list[str]:
    words = line.split(" ")
    out: list[str] = []
    current: list[str] = []
    for word in words:
        if current and count(" ".join([*current, word])) > budget - 1:
            out.append(" ".join(current))
            current = []
        current.append(word)
    if current:
        out.append(" ".join(current))
    return out
