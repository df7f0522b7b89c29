"""Pseudo-queries generated from the documentation itself: training and validation data with no test leak.

Every query is made from one section's own text, and that section is its label, so the benchmark's
questions, answers and gold labels are never read (ORD-QA stays a held-out test set by construction).

Four generators, each deterministic for a seed:
- *heading*: "What is <heading>?" / "How do I <heading> in <title>?" from the section's heading path;
- *command*: "What does the <cmd> command do?" from a command synopsis (a code block whose first line is
  a bare Tcl command name followed by ``[-option ...]`` lines);
- *option*: "What does the <-opt> option of <cmd> do?" and a paraphrase built from the option's
  description ("Which option of <cmd> <description>?") from the ``| `-opt` | description |`` tables;
- *ict*: the Inverse Cloze Task (Lee, Chang & Toutanova, "Latent Retrieval for Weakly Supervised Open
  Domain Question Answering", ACL 2019): one prose sentence is the query and its section the positive.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tools.docqa.chunks import Section

__all__ = ("PseudoQuery", "pseudo_queries", "split_dev")

Kind = Literal["heading", "command", "option", "ict"]

_GENERIC = frozenset(
    {
        "commands", "command", "example", "examples", "example scripts", "regression tests", "limitations",
        "faqs", "faq", "references", "license", "authors", "introduction", "overview", "usage", "options",
        "arguments", "general arguments", "notes", "tcl commands", "python api", "useful developer commands",
        "useful developer functions",
    }
)  # headings that say nothing without their document's title
_OPTION_ROW = re.compile(r"^\|\s*`(-[A-Za-z0-9_]+)`\s*\|\s*(.+?)\s*\|?\s*$")
_CMD_LINE = re.compile(r"^([a-z][a-z0-9_]{2,})\s*(?:\\)?\s*$|^([a-z][a-z0-9_]{2,})\s+\[?-")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")


@dataclass(frozen=True)
class PseudoQuery:
    """A generated query and the id of the section it was made from (its positive).

    Attributes:
        key: the documentation material it was made from (heading, command, command and option, or
            sentence), independent of the template and corpus; ``split_dev`` splits on it.
    """

    text: str
    chunk_id: str
    kind: Kind
    key: str


def _commands(body: str) -> list[str]:
    """Tcl command names that open a synopsis code block in ``body``."""
    out: list[str] = []
    in_code = False
    first = False
    for line in body.splitlines():
        if line.strip().startswith(("```", "~~~")):
            in_code = not in_code
            first = in_code
            continue
        if in_code and first:
            first = False
            m = _CMD_LINE.match(line.strip())
            if m:
                out.append(m.group(1) or m.group(2))
    return out


def _prose_sentences(body: str) -> list[str]:
    """Sentences of plain paragraphs (no code, tables, lists of links), 6 to 40 words long."""
    prose: list[str] = []
    in_code = False
    for line in body.splitlines():
        s = line.strip()
        if s.startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or not s or s.startswith(("|", "<", "!", "#")):
            continue
        prose.append(s.lstrip("-* "))
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", " ".join(prose))
    return [s for s in _SENTENCE_END.split(text) if 6 <= len(s.split()) <= 40]


def _description_phrase(desc: str) -> str:
    """First clause of an option description, lower-cased, without markup: 'set target density'."""
    desc = re.sub(r"[`*]", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", desc))
    first = re.split(r"(?<=[a-z0-9)])\.\s|\.$|;", desc, maxsplit=1)[0].strip()
    return first[:1].lower() + first[1:] if first else ""


def _section_queries(sec: Section, rng: random.Random, ict_per_section: int) -> list[PseudoQuery]:
    out: list[PseudoQuery] = []
    title = sec.title
    leaf = sec.headings[-1] if sec.headings else title
    if leaf.lower() in _GENERIC:
        key = f"heading:{leaf.lower()} of {_norm(title)}"
        out.append(PseudoQuery(f"What are the {leaf.lower()} of {title}?", sec.id, "heading", key))
    else:
        template = rng.choice(("What is {h}?", "How do I use {h} in {t}?", "Tell me about {h} in {t}."))
        out.append(PseudoQuery(template.format(h=leaf, t=title), sec.id, "heading", f"heading:{_norm(leaf)}"))
    commands = _commands(sec.body)
    for cmd in commands[:3]:
        template = rng.choice(("What does the {c} command do?", "What are the arguments of {c}?", "How do I run {c}?"))
        out.append(PseudoQuery(template.format(c=cmd), sec.id, "command", f"command:{cmd}"))
    owner = commands[0] if commands else leaf
    rows = [m for m in (_OPTION_ROW.match(line.strip()) for line in sec.body.splitlines()) if m]
    for m in rng.sample(rows, min(len(rows), 4)):
        opt, phrase = m.group(1), _description_phrase(m.group(2))
        key = f"option:{_norm(owner)} {opt}"
        out.append(PseudoQuery(f"What does the {opt} option of {owner} do?", sec.id, "option", key))
        if len(phrase.split()) >= 3:
            out.append(PseudoQuery(f"Which option of {owner} is used to {phrase}?", sec.id, "option", key))
    sentences = _prose_sentences(sec.body)
    for s in rng.sample(sentences, min(len(sentences), ict_per_section)):
        out.append(PseudoQuery(s, sec.id, "ict", f"ict:{_norm(s)}"))
    return out


def _norm(text: str) -> str:
    """Lower-case words joined by single spaces (``IR_Drop_analysis`` and ``IR Drop Analysis`` agree)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def pseudo_queries(sections: Sequence[Section], seed: int = 0, ict_per_section: int = 2) -> list[PseudoQuery]:
    """Queries for every section, deduplicated by text (a text made from two sections is dropped)."""
    rng = random.Random(seed)
    made: list[PseudoQuery] = []
    for sec in sections:
        made += _section_queries(sec, rng, ict_per_section)
    owners: dict[str, set[str]] = {}
    for q in made:
        owners.setdefault(q.text.lower(), set()).add(q.chunk_id)
    seen: set[str] = set()
    out = []
    for q in made:
        key = q.text.lower()
        if len(owners[key]) == 1 and key not in seen:
            seen.add(key)
            out.append(q)
    return out


def split_dev(queries: Sequence[PseudoQuery], dev_fraction: float = 0.15) -> tuple[list[PseudoQuery], list[PseudoQuery]]:
    """(train, dev) split by a hash of each query's ``key``, so it depends on neither order nor seed.

    Splitting on the material rather than the wording keeps a dev query's heading, command, option or
    sentence out of training even when another corpus of the same docs words the query differently.
    """
    train, dev = [], []
    for q in queries:
        bucket = zlib.crc32(q.key.encode()) % 1000 / 1000.0
        (dev if bucket < dev_fraction else train).append(q)
    return train, dev
