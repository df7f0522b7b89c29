"""The supervisor's state: small and JSON-serialisable (paths and numbers, never arrays)."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

__all__ = ("CrewState", "ChatTurn")


class ChatTurn(TypedDict):
    role: str  # "user" or "assistant"
    content: str


class CrewState(TypedDict, total=False):
    messages: Annotated[list[ChatTurn], operator.add]
    """The session's history; each turn appends (the checkpointer keeps it across restarts)."""
    request: str
    agent: str | None
    router_tier: str
    scores: dict[str, float]
    route_reason: str
    tool_calls: list[dict[str, Any]]
    """``[{"tool", "args", "planner"}]`` of this turn; planner is ``deterministic`` or ``llm``."""
    result: dict[str, Any] | None
    answer: str
    memory: dict[str, Any]
    """What the session remembers between turns (``graphs.conversation``): the entities its turns named and the
    last call. Overwritten each turn, stored by the checkpointer with the rest, so it survives a restart."""
