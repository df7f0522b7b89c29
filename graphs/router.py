"""The tiered router: explicit mention, then a calibrated classifier with an out-of-scope class, then an LLM enum
choice.

The classifier (:mod:`graphs.route_classifier`) weighs the request's embedding, its similarity to each class's
example utterances and the lexical evidence of each agent's own words (:mod:`graphs.route_evidence`) into a
probability per class, ``out_of_scope`` included. Three outcomes:

- confident: the best agent's probability reaches ``min_score``: route there;
- no in-scope evidence (all agents together below ``EVIDENCE``): nobody handles it, say so;
- otherwise uncertain: ``needs_clarification`` with the two best agents as ``candidates`` (a chat asks which),
  and for a one-shot request the best agent when it leads ``out_of_scope`` by ``margin``, else nobody.

Each decision records the tier that decided.
"""

from __future__ import annotations

import hashlib
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

from .route_classifier import LEXICAL_CAP, Bank, RouteClassifier, features
from .route_evidence import Evidence

__all__ = ("RouteDecision", "Router", "OUT_OF_SCOPE", "EVIDENCE")

OUT_OF_SCOPE = "out_of_scope"
Tier = Literal["explicit", "semantic", "llm", "clarify", "abstain"]

EVIDENCE = 0.1  # the agents together at least this probable: the request is about something we do
VOCABULARY_ODDS = 3.0  # log-odds added per vocabulary term (up to 2): an agent's own tool, method or command name
# is strong evidence the bank rarely shows (few utterances name `set_global_routing_layer_adjustment`), so it is a
# fixed prior rather than a learned weight
KEYWORD_ODDS = 1.0  # log-odds per hand-written keyword (up to 2), on top of what the classifier learned from them
# (both chosen on the dev splits of the two routing sets)


@dataclass
class RouteDecision:
    agent: str | None
    tier: Tier
    scores: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    needs_clarification: bool = False
    """A chat should ask the user which of ``candidates`` they mean (``agent`` is the one-shot choice)."""
    candidates: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"agent": self.agent, "tier": self.tier, "scores": self.scores, "reason": self.reason}


class Router:
    """Routes a request to one registered agent or to nobody, cheapest tier first."""

    def __init__(
        self,
        agents: dict[str, AgentSpec],
        embedder: Embedder,
        llm: LLMClient | None = None,
        min_score: float = 0.6,
        margin: float = 0.2,
        cache_dir: Path | None = None,
    ):
        """``cache_dir`` keeps the example utterances' vectors and the classifier's weights (seconds to compute,
        milliseconds to read back)."""
        self.agents = agents
        self.embedder = embedder
        self.llm = llm
        self.min_score = min_score
        self.margin = margin
        self.classes = (*agents, OUT_OF_SCOPE)
        groups = [(a.description, *a.examples) for a in agents.values()] + [OUT_OF_SCOPE_EXAMPLES]
        texts = [t for g in groups for t in g]
        labels = np.array([i for i, g in enumerate(groups) for _ in g])
        vectors = encode_cached(embedder, texts, cache_dir)
        self.bank = Bank(vectors, labels, self.classes)
        self.evidence = Evidence.from_agents(agents)
        lexical = np.array([self.lexical_counts(t) for t in texts], np.float32)
        x = features(vectors, self.bank.similarity_features(vectors, leave_one_out=True), lexical)
        key = [texts, labels.tolist(), hashlib.sha256(vectors.tobytes()).hexdigest(), self.evidence.signature()]
        self.classifier = RouteClassifier.cached(key, x, labels, self.classes, cache_dir)
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

    def lexical_counts(self, text: str) -> list[int]:
        """Per agent in order, its keyword and vocabulary hits in ``text`` (the classifier's lexical features)."""
        hits = self.evidence.hits(text)
        return [n for name in self.agents for n in hits[name]]

    def probabilities(self, text: str) -> dict[str, float]:
        """The classifier's probability per class (agents and ``out_of_scope``), summing to one."""
        query = self.embedder.encode([text])
        lexical = np.array([self.lexical_counts(text)], np.float32)
        x = features(query, self.bank.similarity_features(query), lexical)
        prior = np.zeros((1, len(self.classes)), np.float32)
        capped = np.minimum(lexical[0], LEXICAL_CAP)
        prior[0, : len(self.agents)] = KEYWORD_ODDS * capped[0::2] + VOCABULARY_ODDS * capped[1::2]
        return dict(zip(self.classes, self.classifier.probabilities(x, prior)[0].tolist()))

    def scores(self, text: str) -> dict[str, float]:
        """``probabilities`` rounded for display and state."""
        return {k: round(v, 4) for k, v in self.probabilities(text).items()}

    def explicit(self, text: str, among: tuple[str, ...] | None = None) -> str | None:
        """The agent the text names by name or command (only those in ``among`` when given)."""
        for pattern, name in self._explicit:
            if (among is None or name in among) and pattern.search(text):
                return name
        return None

    def pick(self, reply: str, candidates: tuple[str, ...], request: str = "") -> str | None:
        """The agent a reply to a clarifying question chooses: one it names (any registered agent), "first" or
        "second" of ``candidates``, nobody for "neither"/"none"/"no"; else the reply routed alone, then together
        with the ``request`` it answers."""
        named = self.explicit(reply)
        if named is not None:
            return named
        words = set(re.findall(r"[a-z0-9]+", reply.lower()))
        if words & {"neither", "none", "nobody", "no", "cancel"}:
            return None
        for i, ordinal in enumerate(({"1", "first", "former"}, {"2", "second", "latter"})):
            if words & ordinal and i < len(candidates):
                return candidates[i]
        for text in (reply, f"{request} {reply}"):
            decision = self.route(text, allow_llm=False)
            if decision.agent is not None:
                return decision.agent
        return None

    def route(self, request: str, *, allow_llm: bool = True) -> RouteDecision:
        text = request.strip()
        if not text:
            return RouteDecision(None, "abstain", reason="empty request")
        named = self.explicit(text)
        if named is not None:
            return RouteDecision(named, "explicit", reason=f"request names {named}")
        scores = self.scores(text)
        ranked = sorted(self.agents, key=lambda a: scores[a], reverse=True)
        best, second = ranked[0], ranked[1]
        p_best, p_out = scores[best], scores[OUT_OF_SCOPE]
        if p_best >= self.min_score:
            return RouteDecision(best, "semantic", scores, reason=f"p({best}) = {p_best:.2f}", candidates=(best, second))
        if 1.0 - p_out < EVIDENCE:
            return RouteDecision(None, "semantic", scores, reason=f"out of scope for every specialist (p = {p_out:.2f})")
        if allow_llm and self.llm is not None:
            return self._llm_route(text, scores)
        lead = p_best - p_out
        uncertain = f"uncertain between {best} ({p_best:.2f}) and {second} ({scores[second]:.2f}), out of scope {p_out:.2f}"
        if lead >= self.margin:
            return RouteDecision(best, "semantic", scores, reason=uncertain, needs_clarification=True, candidates=(best, second))
        return RouteDecision(None, "abstain", scores, reason=uncertain, needs_clarification=True, candidates=(best, second))

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
            ranked = tuple(sorted(self.agents, key=lambda a: scores[a], reverse=True)[:2])
            return RouteDecision(None, "abstain", scores, reason=f"LLM router failed: {exc}", needs_clarification=True, candidates=ranked)
        if choice in self.agents:
            return RouteDecision(choice, "llm", scores, reason="chosen by the LLM")
        return RouteDecision(None, "llm", scores, reason="the LLM found no matching specialist")
