"""Extractive answers with numbered citations, composed only of text found in the retrieved sections.

With no capable LLM the answer is assembled, not generated: the retrieved sections are cut into units
(prose sentences, option-table rows, fenced code blocks), each unit is scored against the question by
BM25 over the units plus the embedder's cosine, and the best units are printed in document order with a
``[n]`` citation to their section (source file and heading). Command syntax comes only from code blocks
of the cited sections, so no command can appear that the documentation does not contain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tools.docqa.lexical import Bm25, tokenize
from tools.embedding import Embedder

__all__ = ("Unit", "Citation", "ComposedAnswer", "split_units", "compose_answer", "looks_english", "named_options", "defines_option")

_OPTION_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|?\s*$")
_TABLE_SEP = re.compile(r"^\|[\s:|-]+\|?$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\[])")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_IDENT = re.compile(r"-?[a-z][a-z0-9]*(?:_[a-z0-9]+)+|-[a-z][a-z0-9_]+")
# Frequent function words of the main languages other than English whose scripts are Latin: a question
# made mostly of them (and none of the English ones) is not English.
_FOREIGN = frozenset(
    "der die das und ist wie ich nicht mit für ein eine le la les est comment pour une avec dans du des el los "
    "las es cómo para una con por que qué il di che per non sono".split()
)
_ENGLISH = frozenset("the a an is are how what which do does can i to of in for with on and or why when where".split())


@dataclass(frozen=True)
class Unit:
    """One answerable piece of a section."""

    kind: Literal["sentence", "option", "code"]
    text: str
    position: int


@dataclass(frozen=True)
class Citation:
    n: int
    chunk_id: str
    source: str
    heading: str


@dataclass
class ComposedAnswer:
    """The answer's parts; ``markdown`` joins them with the citation list."""

    text: str
    code: str | None
    citations: list[Citation]
    used: list[tuple[int, str]] = field(default_factory=list)
    markdown: str = ""


def looks_english(question: str) -> bool:
    """False for questions mostly in a non-Latin script or made of another language's function words.

    Command and option names (``global_placement``, ``-density``, backticked code) are ignored: they are
    the same in every language.
    """
    prose = _IDENT.sub(" ", re.sub(r"`[^`]*`", " ", question.lower()))
    letters = [c for c in prose if c.isalpha()]
    if letters and sum(c.isascii() for c in letters) / len(letters) < 0.7:
        return False
    words = re.findall(r"[^\W\d_]+", prose)
    foreign = sum(w in _FOREIGN for w in words)
    english = sum(w in _ENGLISH for w in words)
    return not (foreign >= 2 and foreign > english)


def named_options(question: str) -> set[str]:
    """The ``-option`` names a question mentions (``-density``)."""
    return {name for name in _IDENT.findall(question.lower()) if name.startswith("-")}


def defines_option(text: str, options: set[str]) -> bool:
    """Whether ``text`` has an option-table row (``| `-opt` | ... |``) for one of ``options``."""
    return any(u.kind == "option" and _option_name(u) in options for u in split_units(text))


def _option_name(unit: Unit) -> str:
    return unit.text.split("`", 2)[1].lower()


def split_units(text: str) -> list[Unit]:
    """Sentences of prose, option rows of ``| `-opt` | description |`` tables, and whole code blocks."""
    units: list[Unit] = []
    para: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if para:
            joined = _LINK.sub(r"\1", " ".join(para))
            for s in _SENTENCE_END.split(joined):
                if len(s.split()) >= 3:
                    units.append(Unit("sentence", s.strip(), len(units)))
            para.clear()

    for line in text.splitlines():
        s = line.strip()
        if code is not None:
            code.append(line)
            if s.startswith(("```", "~~~")):
                units.append(Unit("code", "\n".join(code), len(units)))
                code = None
            continue
        if s.startswith(("```", "~~~")):
            flush()
            code = [line]
        elif not s or s.startswith("#") or _TABLE_SEP.match(s):
            flush()
        elif s.startswith("|"):
            flush()
            row = _OPTION_ROW.match(s)
            if row and not row.group(1).lower().startswith("switch"):
                desc = _LINK.sub(r"\1", row.group(2)).rstrip(" |")
                units.append(Unit("option", f"`{row.group(1)}`: {desc}", len(units)))
        elif s.startswith(("<", "![")):
            flush()
        else:
            para.append(s.lstrip("-*> ").strip() if s[:2] in ("- ", "* ", "> ") else s)
            if s[:2] in ("- ", "* "):
                flush()
    flush()
    if code is not None:
        units.append(Unit("code", "\n".join(code), len(units)))
    return units


def compose_answer(
    question: str,
    sections: Sequence[tuple[str, str, str, str]],
    embedder: Embedder | None,
    max_units: int = 4,
    max_code_lines: int = 20,
) -> ComposedAnswer:
    """Pick the best units of the retrieved sections and cite them.

    A unit's score is BM25 (scaled to 1) plus the embedder's cosine; the option-table row of an option the
    question names gains 1, since it is that option's definition.

    Args:
        question: the user's question.
        sections: ``(chunk_id, source, heading, text)`` of the retrieved sections, best first.
        embedder: adds cosine similarity to the lexical score (None: BM25 only).
        max_units: prose/option units in the answer.
        max_code_lines: a longer code block is cut with a pointer to its citation.
    """
    pool: list[tuple[int, Unit]] = []
    for si, (_, _, _, text) in enumerate(sections):
        pool += [(si, u) for u in split_units(text)]
    if not pool:
        return ComposedAnswer("", None, [], markdown="No documentation text was retrieved for this question.")
    scores = _unit_scores(question, [u for _, u in pool], embedder)
    scores -= 0.05 * np.array([si for si, _ in pool], np.float64)  # prefer the retriever's order on ties
    asked = named_options(question)
    scores += np.array([u.kind == "option" and _option_name(u) in asked for _, u in pool], np.float64)  # the definition asked for
    prose = [i for i, (_, u) in enumerate(pool) if u.kind != "code"]
    chosen = sorted(prose, key=lambda i: -scores[i])[:max_units]
    code_ids = [i for i, (_, u) in enumerate(pool) if u.kind == "code"]
    wanted = set(_IDENT.findall(question.lower()))
    code_pick = None
    if code_ids:
        named = [i for i in code_ids if wanted and wanted & set(_IDENT.findall(pool[i][1].text.lower()))]
        candidates = named or [i for i in code_ids if pool[i][0] == 0]
        if candidates:
            code_pick = max(candidates, key=lambda i: scores[i])
    used_sections = sorted({pool[i][0] for i in chosen + ([code_pick] if code_pick is not None else [])})
    numbers = {si: n for n, si in enumerate(used_sections, start=1)}
    citations = [Citation(numbers[si], *sections[si][:3]) for si in used_sections]
    lines: list[tuple[int, str]] = []
    for i in sorted(chosen, key=lambda i: (pool[i][0], pool[i][1].position)):
        si, unit = pool[i]
        lines.append((numbers[si], unit.text))
    text = " ".join(f"{t} [{n}]" for n, t in lines)
    code = None
    if code_pick is not None:
        si, unit = pool[code_pick]
        code_lines = unit.text.splitlines()
        if len(code_lines) > max_code_lines:
            code_lines = [*code_lines[: max_code_lines - 1], "    ...", code_lines[-1] if code_lines[-1].strip().startswith("`") else "```"]
        code = "\n".join(code_lines) + f"\n\n(syntax from [{numbers[si]}])"
    md = [f"- {t} [{n}]" for n, t in lines]
    if code:
        md += ["", code]
    md += ["", "**Sources**"] + [f"[{c.n}] {c.source} — {c.heading} (`{c.chunk_id}`)" for c in citations]
    return ComposedAnswer(text, code, citations, lines, "\n".join(md))


def _unit_scores(question: str, units: Sequence[Unit], embedder: Embedder | None) -> np.ndarray:
    """BM25 over the units scaled to [0, 1], plus the embedder's cosine when one is given."""
    lexical = Bm25([tokenize(u.text) for u in units]).scores(question)
    top = lexical.max()
    scores = lexical / top if top > 0 else lexical
    if embedder is not None:
        vecs = embedder.encode([question] + [u.text[:1000] for u in units])
        scores = scores + vecs[1:] @ vecs[0]
    return scores
