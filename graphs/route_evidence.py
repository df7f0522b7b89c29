"""Lexical evidence for routing: which agent's own words a request uses.

Two kinds per agent: its hand-written ``keywords``, and its vocabulary, taken from the agent itself: its tool
names, the distinctive ``Literal`` choices of its tools' arguments (method and model names such as ``fusegpt``,
``OPT-6.7B``), and whatever its ``vocabulary`` callable returns (for doc QA every OpenROAD command, option and
flow variable in the docs). A vocabulary term shared by two agents is evidence for neither.
"""

from __future__ import annotations

import enum
import re
import typing
from collections import Counter
from dataclasses import dataclass

from agents import AgentSpec

__all__ = ("Evidence", "agent_vocabulary")

# Argument choices that say nothing about the field: settings words any request may use.
_GENERIC_CHOICES = frozenset(
    "all apply auto auto random max min model search fit exact inclusive cpu cuda both base phrasing balanced fastest "
    "nominal metal contact via offset cmrr schematic post_layout uniform dense hybrid finetuned least_memory llm "
    "bandit taylor turbo".split()
)


def _choices(annotation: object, out: set[str]) -> None:
    if typing.get_origin(annotation) is typing.Literal:
        out.update(str(a) for a in typing.get_args(annotation))
        return
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        out.update(str(m.value) for m in annotation)
    for arg in typing.get_args(annotation):
        _choices(arg, out)


def agent_vocabulary(agent: AgentSpec) -> set[str]:
    """Lower-case terms from the agent's tools and its ``vocabulary`` (not yet de-duplicated across agents)."""
    terms = {t.name.lower() for t in agent.tools}
    choices: set[str] = set()
    for tool in agent.tools:
        for fld in tool.args_model.model_fields.values():
            _choices(fld.annotation, choices)
    terms |= {
        c.lower() for c in choices if c.lower() not in _GENERIC_CHOICES and (len(c) >= 4 or any(ch.isdigit() for ch in c))
    }
    if agent.vocabulary is not None:
        terms |= {t.lower() for t in agent.vocabulary()}
    return terms


def _pattern(terms: typing.Iterable[str]) -> re.Pattern[str] | None:
    """One alternation matching any term as a whole word (longest first); ``_`` and ``-`` inside terms match as
    written or as a space, so ``global placement`` finds ``global_placement``."""
    alts = []
    for term in sorted(set(terms), key=lambda t: (-len(t), t)):  # a stable order: the signature keys a cache
        parts = [re.escape(p) for p in re.split(r"[_\s]+", term.strip()) if p]
        if parts:
            alts.append(r"[_\s]".join(parts) if term.startswith("-") else r"[_\s]?".join(parts) if len(parts) > 1 else parts[0])
    if not alts:
        return None
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + r")", re.I)


@dataclass(frozen=True)
class Evidence:
    """Per agent, how many of its keywords and vocabulary terms a request mentions."""

    keywords: dict[str, re.Pattern[str] | None]
    vocabulary: dict[str, re.Pattern[str] | None]

    @classmethod
    def from_agents(cls, agents: dict[str, AgentSpec]) -> Evidence:
        vocab = {name: agent_vocabulary(a) for name, a in agents.items()}
        owners = Counter(t for terms in vocab.values() for t in terms)
        return cls(
            keywords={name: _pattern(a.keywords) for name, a in agents.items()},
            vocabulary={name: _pattern(t for t in terms if owners[t] == 1) for name, terms in vocab.items()},
        )

    def signature(self) -> str:
        """The patterns as text, for cache keys."""
        pats = {**{f"k:{n}": p for n, p in self.keywords.items()}, **{f"v:{n}": p for n, p in self.vocabulary.items()}}
        return "\n".join(f"{n}={p.pattern if p else ''}" for n, p in sorted(pats.items()))

    def hits(self, text: str) -> dict[str, tuple[int, int]]:
        """``{agent: (distinct keywords, distinct vocabulary terms)}`` found in ``text``."""
        out = {}
        for name in self.keywords:
            kw, vo = self.keywords[name], self.vocabulary[name]
            out[name] = (
                len({m.lower() for m in kw.findall(text)}) if kw else 0,
                len({m.lower() for m in vo.findall(text)}) if vo else 0,
            )
        return out
