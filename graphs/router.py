"""The tiered router: explicit mention, then semantic similarity with a margin, then an LLM enum choice.

Each decision records the tier that decided. ``agent`` is ``None`` when nobody registered handles the request
(out of scope, or too uncertain with no capable LLM); ``needs_clarification`` then says
whether asking the user could help.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from agents import AgentSpec
from agents.out_of_scope import OUT_OF_SCOPE_EXAMPLES
from chipcrew.llm import LLMClient, LLMError, Message, make_client
from chipcrew.settings import Settings
from prompts import load_prompt
from tools.embedding import Embedder, encode_cached, load_embedder

__all__ = ("RouteDecision", "Router", "OUT_OF_SCOPE")

OUT_OF_SCOPE = "out_of_scope"
Tier = Literal["explicit", "semantic", "llm", "clarify", "abstain"]

KEYWORD_BONUS = 0.04  # per matched keyword, capped at 3 matches: lexical evidence the embedder may blur
TOP_K = 3  # a class scores the mean of its 3 most similar example utterances
STRONG_LEAD = 0.15  # a lead this large over the runner-up ...
STRONG_LEAD_SLACK = 0.12  # ... lets a class win this far below the absolute threshold


@dataclass
class RouteDecision:
    agent: str | None
    tier: Tier
    scores: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    needs_clarification: bool = False

    def as_json(self) -> dict[str, object]:
        return {"agent": self.agent, "tier": self.tier, "scores": self.scores, "reason": self.reason}


@dataclass(frozen=True)
class _Class:
    name: str
    keywords: tuple[str, ...]
    vectors: np.ndarray  # (n_examples, dim)


class Router:
    """Routes a request to one registered agent or to nobody, cheapest tier first."""

    def __init__(
        self,
        agents: dict[str, AgentSpec],
        embedder: Embedder,
        llm: LLMClient | None = None,
        min_score: float = 0.38,
        margin: float = 0.04,
        cache_dir: Path | None = None,
    ):
        """``cache_dir`` keeps the example utterances' vectors (seconds to compute, milliseconds to read back)."""
        self.agents = agents
        self.embedder = embedder
        self.llm = llm
        self.min_score = min_score
        self.margin = margin
        groups: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
            (a.name, a.keywords, (a.description, *a.examples)) for a in agents.values()
        ]
        groups.append((OUT_OF_SCOPE, (), OUT_OF_SCOPE_EXAMPLES))
        texts = [t for g in groups for t in g[2]]
        vectors = encode_cached(embedder, texts, cache_dir)
        self.classes: list[_Class] = []
        start = 0
        for name, keywords, examples in groups:
            self.classes.append(_Class(name, keywords, vectors[start : start + len(examples)]))
            start += len(examples)
        self._explicit = self._explicit_patterns()

    @classmethod
    def from_settings(cls, settings: Settings, agents: dict[str, AgentSpec], llm: LLMClient | None = None) -> Router:
        """The router the settings describe: their embedder and thresholds, and an LLM tier only when they name a
        capable endpoint (``llm`` if given, else a client built from them). The app, ``chipcrew route`` and the
        router benchmark all build their router here."""
        if settings.llm_capable and llm is None:
            llm = make_client(settings)
        return cls(
            agents,
            load_embedder(settings.embedder_path),
            llm=llm if settings.llm_capable else None,
            min_score=settings.router_min_score,
            margin=settings.router_margin,
            cache_dir=settings.cache_dir / "router",
        )

    def _explicit_patterns(self) -> list[tuple[re.Pattern[str], str]]:
        out = []
        for name in self.agents:
            words = name.replace("_", r"[\s_-]?")
            out.append((re.compile(rf"(?:^|\W)@?{words}\b", re.I), name))
        for agent in self.agents.values():
            for cmd in agent.commands:
                out.append((re.compile(rf"^\s*{re.escape(cmd)}\b", re.I), agent.name))
        return out

    def route(self, request: str, *, allow_llm: bool = True) -> RouteDecision:
        text = request.strip()
        if not text:
            return RouteDecision(None, "abstain", reason="empty request")
        for pattern, name in self._explicit:
            if pattern.search(text):
                return RouteDecision(name, "explicit", reason=f"request names {name}")
        scores = self.scores(text)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (best, best_score), (_, second_score) = ranked[0], ranked[1]
        lead = best_score - second_score
        if best == OUT_OF_SCOPE and best_score >= self.min_score - 0.1:
            return RouteDecision(None, "semantic", scores, reason="out of scope for every specialist")
        # A clear winner far ahead of every other class is accepted a little below the absolute threshold.
        confident = (best_score >= self.min_score and lead >= self.margin) or (
            best_score >= self.min_score - STRONG_LEAD_SLACK and lead >= STRONG_LEAD
        )
        if best in self.agents and confident:
            return RouteDecision(best, "semantic", scores, reason=f"similarity {best_score:.2f}, lead {lead:.2f}")
        if allow_llm and self.llm is not None:
            return self._llm_route(text, scores)
        uncertain = best_score >= self.min_score - 0.1 and best != OUT_OF_SCOPE
        return RouteDecision(
            None,
            "abstain",
            scores,
            reason=f"uncertain: best {best} at {best_score:.2f}, lead {lead:.2f}",
            needs_clarification=uncertain,
        )

    def scores(self, text: str) -> dict[str, float]:
        """Per class (agents and ``out_of_scope``): mean top-3 cosine plus keyword evidence."""
        query = self.embedder.encode([text])[0]
        lowered = text.lower()
        out = {}
        for cls in self.classes:
            sims = np.sort(cls.vectors @ query)[::-1][:TOP_K]
            hits = sum(1 for k in cls.keywords if re.search(rf"(?<![a-z0-9]){re.escape(k)}", lowered))
            out[cls.name] = round(float(sims.mean()) + KEYWORD_BONUS * min(hits, 3), 4)
        return out

    def _llm_route(self, text: str, scores: dict[str, float]) -> RouteDecision:
        options = list(self.agents) + ["none"]
        schema = {
            "type": "object",
            "properties": {"agent": {"type": "string", "enum": options}},
            "required": ["agent"],
            "additionalProperties": False,
        }
        listing = "\n".join(f"- {a.name}: {a.description}" for a in self.agents.values())
        system = load_prompt("router").format(agents=listing)
        try:
            reply = self.llm.chat([Message(role="system", content=system), Message(role="user", content=text)], json_schema=schema)  # type: ignore[union-attr]
            choice = json.loads(reply.content).get("agent")
        except (LLMError, json.JSONDecodeError, AttributeError) as exc:
            return RouteDecision(None, "abstain", scores, reason=f"LLM router failed: {exc}", needs_clarification=True)
        if choice in self.agents:
            return RouteDecision(choice, "llm", scores, reason="chosen by the LLM")
        return RouteDecision(None, "llm", scores, reason="the LLM found no matching specialist")
