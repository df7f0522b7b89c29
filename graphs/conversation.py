"""A conversation, not a string of one-shot requests: what a session remembers between turns and how a follow-up
is read against it.

The memory is a small JSON dict kept in the supervisor's state (so the session's checkpointer stores it and it
survives a restart): the entities the turns named (clip, suite, model, circuit, graph, run folder, last method),
each with the agent that used it, and the last call (agent, tool, arguments, request, whether it ran).

A follow-up is read with the agents' own planners, never with patterns of its own:

- **carry-over**: a field the chosen tool takes (clip, circuit, model, graph) that the request does not state is
  the one the same agent used last ("now run DiffOPC on it" -> the clip just simulated);
- **repeat / correction**: "again with 50 iterations", "what about turbo?", "and at the max corner?", or any short
  reply to a call that could not run ("M1_test4", "sorry, 30 iterations") re-plans the request with the previous
  one beside it, in both orders, and keeps from the last call every argument the new words did not change;
- **routing**: such a follow-up goes to the agent of the last turn when the router finds no specialist, and a
  reply to a question goes back to the agent that asked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agents import AgentSpec, ToolCall
from tools.common import ChipCrewError

__all__ = (
    "SUBJECTS",
    "empty_memory",
    "is_repeat",
    "refers_back",
    "route_followup",
    "plan_turn",
    "remember",
    "missing_fields",
)

SUBJECTS = ("clip", "circuit", "model", "graph")
"""What a request is about: carried into a follow-up of the same agent that does not name its own."""

_KINDS = (*SUBJECTS, "suite", "method", "mask", "corpus")
_REPEAT = re.compile(
    r"\b(?:again|re-?run|repeat|redo|re-?do|re-?try|instead|this\s+time|same\s+(?:thing|run|settings?|setup|but|again|"
    r"with|for|at|on|as\s+before))\b|^\s*(?:and|but|now|ok(?:ay)?|then|also)?,?\s*(?:what|how)\s+about\b|"
    r"^\s*(?:and|but|now|then|also|ok(?:ay)?)\s*,?\s*(?:with|for|on|at|in|using|over|across)\b|^\s*(?:with|using|over|at|on|for)\b|"
    r"^\s*(?:and|plus)\b",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"\b(?:it|its|them|those|these|same|again)\b|\b(?:that|this)\s+(?:one|clip|via|contact|mask|model|circuit|ota|"
    r"layout|graph|design|run|folder|result|tile|amplifier|network)\b",
    re.IGNORECASE,
)
_FOLDER_REF = re.compile(
    r"\b(?:that|this|the\s+same|the\s+last|the\s+previous)\s+(?:run\s+|output\s+)?(?:folder|directory|dir)\b", re.IGNORECASE
)
_SHORT_FOLLOWUP = 6
"""A repeat ("again with 30 evaluations") of at most this many words goes to the last turn's agent whatever the
router says: it names nothing of its own for the router to weigh."""
_CONTEXT_DEPTH = 4
"""Requests of a chain of follow-ups remembered together (the newest first)."""
_SHORT_REPLY = 5
"""A reply of at most this many words to a call that could not run is read as its correction."""


def empty_memory() -> dict[str, Any]:
    return {"entities": {}, "last": None}


def is_repeat(request: str) -> bool:
    """"again with 50 iterations", "what about turbo?", "and at the max corner?", "rerun it on the CPU"."""
    return _REPEAT.search(request) is not None


def refers_back(request: str) -> bool:
    """The request points at something said before ("it", "that clip", "the same model", "again")."""
    return _REFERENCE.search(request) is not None or is_repeat(request)


def route_followup(request: str, routed: str | None, memory: dict[str, Any] | None) -> str | None:
    """The agent for this turn: a reply to a call that could not run goes back to its agent, a follow-up that the
    router cannot place or a short repeat goes to the last turn's agent; otherwise the router's choice."""
    last = (memory or {}).get("last")
    if not last:
        return routed
    short = len(request.split()) <= _SHORT_REPLY
    if routed is None and (refers_back(request) or (last.get("failed") and short)):
        return last["agent"]
    if is_repeat(request) and len(request.split()) <= _SHORT_FOLLOWUP:
        return last["agent"]  # "again but top 8": the words alone look like some agent's, the session knows whose
    return routed


def missing_fields(model: type[BaseModel], args: dict[str, Any]) -> list[str]:
    """Required fields of ``model`` that ``args`` lacks."""
    return [name for name, field in model.model_fields.items() if field.is_required() and name not in args]


def _fields(spec: AgentSpec, tool: str) -> set[str]:
    try:
        return set(spec.tool(tool).args_model.model_fields)
    except ChipCrewError:  # an unknown tool (an LLM's invention) has no fields to carry
        return set()


def _validates(spec: AgentSpec, call: ToolCall) -> bool:
    try:
        model = spec.tool(call.tool).args_model
        for args in call.runs():
            model.model_validate(args)
    except (ValidationError, ChipCrewError):
        return False
    return True


def _stands_alone(spec: AgentSpec, call: ToolCall, plan: Callable[[str], ToolCall]) -> bool:
    """The call is a request of its own: it states every required argument of its tool (at least one), validates,
    and its tool is not just what the planner picks for those values said alone ("clip 3" plans the agent's default
    tool, "simulate M1_test3" does not)."""
    try:
        model = spec.tool(call.tool).args_model
    except ChipCrewError:
        return False
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    if not required or not _validates(spec, call):
        return False
    return plan(" ".join(str(call.args[name]) for name in required)).tool != call.tool


def _carry_subjects(spec: AgentSpec, request: str, call: ToolCall, memory: dict[str, Any]) -> ToolCall:
    """Fill the subject fields the tool takes and the request left out from this agent's last ones, and the
    output folder from the last run's when the request says "the same folder"."""
    fields = _fields(spec, call.tool)
    entities = memory.get("entities", {})
    filled = dict(call.args)
    for kind in SUBJECTS:
        known = entities.get(kind)
        if kind in fields and kind not in call.stated() and known and known.get("agent") == spec.name:
            filled[kind] = known["value"]
    run_dir = entities.get("run_dir")
    if "out_dir" in fields and "out_dir" not in filled and run_dir and _FOLDER_REF.search(request):
        filled["out_dir"] = run_dir["value"]
    return call.model_copy(update={"args": filled})


def _changes(plan: Callable[[str], ToolCall], request: str, last: dict[str, Any]) -> tuple[dict[str, Any], set[str]] | None:
    """What the new words change in the last call: the request planned beside the last request, in both orders,
    against the last request planned alone. None when no reading keeps the last call's tool."""
    before = plan(last["request"]).stated()
    changes: dict[str, Any] = {}
    swept: set[str] = set()
    readings = [plan(request), plan(f"{request} ; {last['request']}"), plan(f"{last['request']} ; {request}")]
    same_tool = [r for r in readings if r.tool == last["tool"]]
    if not same_tool:
        return None
    for reading in same_tool:
        for key, value in reading.stated().items():
            if isinstance(value, str) and ";" in value:
                continue  # free text read across both requests ("repair_timing ; again ..."), not a value said
            if key not in changes and before.get(key) != value:
                changes[key] = value
                if key in reading.sweep:
                    swept.add(key)
    return changes, swept


def plan_turn(
    spec: AgentSpec, request: str, memory: dict[str, Any] | None, plan: Callable[[str], ToolCall], first: ToolCall | None = None
) -> ToolCall:
    """The call for ``request`` in the context of the session's ``memory``.

    Args:
        spec: the agent the turn was routed to.
        request: the user's words this turn.
        memory: the session's memory (``empty_memory()`` for a first turn).
        plan: the agent's deterministic planner (text -> call), used to read the request beside the last one.
        first: the call already planned for ``request`` alone (e.g. by an LLM); planned with ``plan`` if None.
    """
    memory = memory or empty_memory()
    call = first if first is not None else plan(request)
    last = memory.get("last")
    if not last or last.get("agent") != spec.name:
        return call, request
    carried = _carry_subjects(spec, request, call, memory)
    correcting = last.get("failed") and (len(request.split()) <= _SHORT_REPLY or not _validates(spec, carried))
    if correcting and not is_repeat(request) and call.tool != last["tool"] and _stands_alone(spec, call, plan):
        return call, request  # "simulate M1_test3" after a failed call is a new request, complete on its own
    if is_repeat(request) or correcting:
        found = _changes(plan, request, last)
        if found is not None:  # a reading keeps the last call's tool: it is the one repeated, changed or not
            changes, swept = found
            fields = _fields(spec, last["tool"])
            args, sweep = dict(last["args"]), {k: list(v) for k, v in last.get("sweep", {}).items()}
            for key, value in changes.items():
                if key not in fields:
                    continue
                if key in swept:
                    sweep[key] = value
                    args.pop(key, None)
                else:
                    args[key] = value
                    sweep.pop(key, None)
            context = " ; ".join([request, *last["request"].split(" ; ")][:_CONTEXT_DEPTH])
            return ToolCall(tool=last["tool"], args=args, sweep=sweep), context
    return carried, request


def _run_dir(result: dict[str, Any] | None) -> str | None:
    """The folder a tool wrote into: its ``out_dir``/``run_dir``, else the common folder of its artefacts."""
    if not result:
        return None
    for key in ("run_dir", "out_dir"):
        if isinstance(result.get(key), str):
            return result[key]
    parents = [str(Path(p).parent) for p in (result.get("artifacts") or {}).values() if isinstance(p, str)]
    return os.path.commonpath(parents) if parents else None


def remember(
    memory: dict[str, Any] | None,
    agent: str,
    request: str,
    call: ToolCall,
    result: dict[str, Any] | None,
    failed: bool,
) -> dict[str, Any]:
    """The memory after a turn: the entities the call and its result named, and the call itself."""
    entities = dict((memory or {}).get("entities", {}))
    stated = call.stated()
    for kind in _KINDS:
        value = stated.get(kind)
        if value is None and result and kind in ("clip", "suite", "circuit", "model", "graph"):
            value = result.get(kind) if isinstance(result.get(kind), str) else None
        if value is not None:
            entities[kind] = {"value": value, "agent": agent}
    if result and isinstance(result.get("saved_to"), str):  # the model a tool wrote is the one to talk about next
        entities["model"] = {"value": result["saved_to"], "agent": agent}
    run_dir = None if failed else _run_dir(result)
    if run_dir:
        entities["run_dir"] = {"value": run_dir, "agent": agent}
    last = {"agent": agent, "tool": call.tool, "args": call.args, "sweep": call.sweep, "request": request, "failed": failed}
    return {"entities": entities, "last": last}
