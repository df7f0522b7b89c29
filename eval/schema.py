"""The eval datasets: one JSONL file per kind under ``eval/datasets/``, one case per line, validated here.

- routing: ``{"id", "request", "expected_agent" (name or null), "split"}``; null means "no specialist
  handles this".
- routing_general: the same fields; requests written apart from the router's utterance bank (from the OpenROAD
  docs' headings and commands, the papers' terms, typos, tool prefixes, near-domain out-of-scope requests), so it
  predicts real use; none may be (nearly) one of the bank's utterances.
- tools (BFCL style): ``{"id", "agent", "request", "tool", "args": {name: [acceptable values]}, "split"}``; an
  empty string among the values means the argument may be omitted; numbers match within ``tolerance``.
- tasks: ``{"id", "agent", "request", "checks": [{"path", "op", "value"}], "split"}``, run end to end; ``path``
  is dotted into the turn (``result.metrics.epe_contest``, ``answer``, ``tool_calls.0.args.model``).
- conversations: ``{"id", "turns": [{"request", "agent", "tool", "args", "valid"}], "split"}``, 2-4 turns of one
  session, each scored like a tool case after routing; a case is right only when every turn is.

A tool case's (or turn's) ``valid`` is false when the request states a value the tool cannot take (``-5
iterations``) or leaves out a required one: the planned call must then fail validation, so that nothing runs and
the agent says why or asks, instead of silently running something else. Swept arguments (a comparison) are
lists: ``"method": [["ilt", "diffopc"]]``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from tools.common import InputError

__all__ = (
    "DATASETS",
    "Check",
    "ConversationCase",
    "ConversationTurn",
    "RoutingCase",
    "Split",
    "TaskCase",
    "ToolCase",
    "load_cases",
    "router_bank",
    "validate_datasets",
)

DATASETS = Path(__file__).resolve().parent / "datasets"
Split = Literal["dev", "heldout", "all"]


class RoutingCase(BaseModel):
    id: str
    request: str = Field(min_length=1)
    expected_agent: str | None
    split: Literal["dev", "heldout"] = "dev"


class ToolCase(BaseModel):
    id: str
    agent: str
    request: str = Field(min_length=1)
    tool: str
    args: dict[str, list[Any]] = Field(default_factory=dict)
    tolerance: float = Field(default=1e-6, ge=0, description="Relative tolerance for numeric arguments.")
    valid: bool = Field(default=True, description="Whether the planned call must pass validation (see above).")
    split: Literal["dev", "heldout"] = "dev"


class ConversationTurn(BaseModel):
    request: str = Field(min_length=1)
    agent: str
    tool: str
    args: dict[str, list[Any]] = Field(default_factory=dict)
    tolerance: float = Field(default=1e-6, ge=0)
    valid: bool = True


class ConversationCase(BaseModel):
    id: str
    turns: list[ConversationTurn] = Field(min_length=2, max_length=4)
    split: Literal["dev", "heldout"] = "dev"


class Check(BaseModel):
    path: str
    op: Literal["==", "!=", "<=", ">=", "<", ">", "contains", "not_contains", "in"]
    value: Any


class TaskCase(BaseModel):
    id: str
    agent: str
    request: str = Field(min_length=1)
    checks: list[Check] = Field(min_length=1)
    split: Literal["dev", "heldout"] = "dev"


_MODELS: dict[str, type[BaseModel]] = {
    "routing": RoutingCase,
    "routing_general": RoutingCase,
    "tools": ToolCase,
    "tasks": TaskCase,
    "conversations": ConversationCase,
}
NEAR_DUPLICATE = 0.75  # word-set Jaccard at or above which a case counts as a copy of a bank utterance


def load_cases(kind: str, split: Split = "all", path: Path | None = None) -> list[Any]:
    """Cases of ``kind`` (routing, routing_general, tools, tasks, conversations) in ``split``; a bad line names its file, line and field."""
    if kind not in _MODELS:
        raise InputError("suite", kind, list(_MODELS))
    file = path or DATASETS / f"{kind}.jsonl"
    model = _MODELS[kind]
    cases = []
    for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = model.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise InputError(f"{file.name}:{lineno}", line[:60], f"a valid {model.__name__} ({exc})") from exc
        if split == "all" or case.split == split:
            cases.append(case)
    return cases


def validate_datasets() -> list[str]:
    """Problems across the datasets: duplicate ids, unknown agents/tools, held-out requests leaking into
    the router's example utterances. Empty when all is well."""
    from agents import registry

    agents = registry()
    known = set(agents)
    examples = {e.strip().lower() for a in agents.values() for e in a.examples}
    bank = [_words(e) for e in router_bank(agents)]
    problems: list[str] = []
    for kind in _MODELS:
        seen: set[str] = set()
        for case in load_cases(kind):
            if case.id in seen:
                problems.append(f"{kind}: duplicate id {case.id}")
            seen.add(case.id)
            if kind == "conversations":
                problems += _turn_problems(case, agents, examples)
                continue
            agent = getattr(case, "expected_agent", None) or getattr(case, "agent", None)
            if agent is not None and agent not in known:
                problems.append(f"{kind} {case.id}: unknown agent {agent!r}")
            if case.split == "heldout" and case.request.strip().lower() in examples:
                problems.append(f"{kind} {case.id}: held-out request is one of the router's example utterances")
            if kind == "routing_general" and any(_jaccard(_words(case.request), b) >= NEAR_DUPLICATE for b in bank):
                problems.append(f"{kind} {case.id}: request is nearly one of the router's utterances (bank)")
            if kind == "tools" and case.agent in agents and case.tool not in {t.name for t in agents[case.agent].tools}:
                problems.append(f"tools {case.id}: {case.agent} has no tool {case.tool!r}")
    return problems


def _turn_problems(case: ConversationCase, agents: dict[str, Any], examples: set[str]) -> list[str]:
    problems = []
    for i, turn in enumerate(case.turns, 1):
        where = f"conversations {case.id} turn {i}"
        if turn.agent not in agents:
            problems.append(f"{where}: unknown agent {turn.agent!r}")
        elif turn.tool not in {t.name for t in agents[turn.agent].tools}:
            problems.append(f"{where}: {turn.agent} has no tool {turn.tool!r}")
        if case.split == "heldout" and turn.request.strip().lower() in examples:
            problems.append(f"{where}: held-out request is one of the router's example utterances")
    return problems


def router_bank(agents: dict[str, Any]) -> list[str]:
    """Every utterance the router learns from: each agent's description and examples, and the out-of-scope ones."""
    from agents.out_of_scope import OUT_OF_SCOPE_EXAMPLES

    return [t for a in agents.values() for t in (a.description, *a.examples)] + list(OUT_OF_SCOPE_EXAMPLES)


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", text.lower()))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0
