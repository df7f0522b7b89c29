"""The Python API: ``ChipCrew().ask("...")``. The CLI is a thin layer over this class."""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from langgraph.types import Command
from pydantic import BaseModel, Field

from agents import registry
from graphs.router import RouteDecision, Router
from graphs.sessions import memory_checkpointer, session_lock, sqlite_checkpointer, touch_session
from graphs.supervisor import Runtime, build_supervisor
from tools.common import ProgressFn

from .llm import LLMClient, make_client
from .settings import Settings

__all__ = ("ChipCrew", "Turn", "EventFn")

EventFn = Callable[[str, dict[str, Any]], None]
"""``on_event(kind, data)`` while a turn runs: ``route`` (agent, tier, scores, reason) once routed, ``tool_call``
(agent, tool, args, planner) just before a tool starts."""


class Turn(BaseModel):
    """The outcome of one request."""

    agent: str | None = None
    router_tier: str = ""
    scores: dict[str, float] = Field(default_factory=dict)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    answer: str = ""
    question: str | None = Field(default=None, description="A clarifying question; answer it with `resume`.")
    trajectory: list[str] = Field(default_factory=list, description="Graph nodes visited in this turn, in order.")

    def as_json(self) -> dict[str, Any]:
        """The ``chipcrew ask --json`` shape."""
        out = self.model_dump(include={"agent", "router_tier", "tool_calls", "result", "answer"})
        out["tool_calls"] = [
            {"tool": c["tool"], "args": c["args"], **({"sweep": c["sweep"]} if c.get("sweep") else {})}
            for c in self.tool_calls
        ]
        return out


class ChipCrew:
    """A supervisor over the registered specialists.

    Args:
        settings: defaults to ``Settings()`` (env vars ``CHIPCREW_*`` and the TOML file).
        session: name a persistent session (SQLite under the data folder); ``None`` keeps history in memory.
        clarify: ask a clarifying question when the route is uncertain (chat); otherwise say who is available.
        llm: an LLM client to use instead of the one the settings describe.

    Example:
        >>> crew = ChipCrew(Settings(llm_backend="none"))
        >>> turn = crew.ask("How much faster is W4A16 than FP16 on LLaMA-2-13B?")
        >>> turn.agent
        'hardware_architect'
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        session: str | None = None,
        clarify: bool = False,
        llm: LLMClient | None = None,
    ):
        self.settings = settings or Settings()
        self.llm = llm or make_client(self.settings)
        agents = registry()
        router = Router.from_settings(self.settings, agents, self.llm)
        self.runtime = Runtime(self.settings, agents, router, self.llm)
        self.thread_id = session or "default"
        self.persistent = session is not None
        saver = sqlite_checkpointer(self.settings.sessions_db) if session else memory_checkpointer()
        self.graph = build_supervisor(self.runtime, saver, clarify=clarify)

    def for_session(self, session: str) -> ChipCrew:
        """The same app (models, router, graph, checkpointer) on another session: what a server serving many
        sessions builds once per process."""
        other = copy.copy(self)
        other.thread_id = session
        return other

    @property
    def _config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.thread_id}}

    def route(self, request: str) -> RouteDecision:
        """Only the routing decision; runs no tool."""
        return self.runtime.router.route(request, allow_llm=self.settings.llm_capable)

    def ask(self, request: str, on_progress: ProgressFn | None = None, on_event: EventFn | None = None) -> Turn:
        """Answer one request (one turn of the session).

        Args:
            request: the question or task, in plain language.
            on_progress: called as ``on_progress(message, fraction)`` while the tool runs (the signature every
                tool and benchmark reports with; :func:`chipcrew.commands.terminal.progress_bar` draws it).
            on_event: called with the routing decision and each tool call as they happen (:data:`EventFn`).
        """
        return self._run(lambda: _request(request), on_progress, on_event)

    def resume(self, reply: str, on_progress: ProgressFn | None = None, on_event: EventFn | None = None) -> Turn:
        """Answer the clarifying question of the previous turn and carry on."""
        return self._run(lambda: Command(resume=reply), on_progress, on_event)

    def send(self, message: str, on_progress: ProgressFn | None = None, on_event: EventFn | None = None) -> Turn:
        """A chat's next message: the answer to the session's pending clarifying question if there is one, else a
        new request (decided under the session lock, so two messages sent at once cannot both take the answer)."""
        return self._run(
            lambda: Command(resume=message) if self.pending_question() else _request(message), on_progress, on_event
        )

    def pending_question(self) -> str | None:
        """The clarifying question the session's last turn asked and nobody answered yet."""
        snapshot = self.graph.get_state(self._config)
        return snapshot.interrupts[0].value.get("question") if snapshot.interrupts else None

    def turns(self) -> list[dict[str, Any]]:
        """The session's completed turns, oldest first: request, agent, tier, tool calls, result, answer.

        Read back from the checkpoints (the state at the end of each run), so a turn asked in the terminal shows
        its tool calls and artefacts in the web workspace too.
        """
        snapshots = list(self.graph.get_state_history(self._config))
        by_id = {s.config["configurable"]["checkpoint_id"]: s for s in snapshots}
        lineage, snap = [], snapshots[0] if snapshots else None
        while snap is not None:  # from the latest checkpoint back through its parents: the session's one history
            lineage.append(snap)
            parent = snap.parent_config
            snap = by_id.get(parent["configurable"]["checkpoint_id"]) if parent else None
        out = []
        for snap in lineage:
            if snap.next or snap.metadata is None or snap.metadata.get("source") != "loop":
                continue  # the input checkpoint, a step inside a turn, or a turn waiting for an answer
            values = snap.values
            out.append({
                "request": values.get("request", ""), "agent": values.get("agent"),
                "router_tier": values.get("router_tier", ""), "tool_calls": values.get("tool_calls", []),
                "result": values.get("result"), "answer": values.get("answer", ""),
            })
        return out[::-1]

    def history(self) -> list[dict[str, str]]:
        """The session's messages, oldest first."""
        return list(self.graph.get_state(self._config).values.get("messages", []))

    def _run(self, inputs: Callable[[], Any], on_progress: ProgressFn | None, on_event: EventFn | None) -> Turn:
        # one turn of a saved session at a time, across threads and processes: see graphs.sessions.session_lock
        db = self.settings.sessions_db
        with session_lock(db, self.thread_id) if self.persistent else nullcontext():
            if self.persistent:
                touch_session(db, self.thread_id)
            return self._stream(inputs(), on_progress, on_event)

    def _stream(self, inputs: Any, on_progress: ProgressFn | None, on_event: EventFn | None) -> Turn:
        trajectory: list[str] = []
        for mode, chunk in self.graph.stream(inputs, self._config, stream_mode=["custom", "updates"], durability="exit"):
            if mode == "custom" and on_progress is not None and "fraction" in chunk:
                # the one place where the graph's stream events become progress(message, fraction)
                on_progress(str(chunk.get("message", "")), float(chunk["fraction"]))
            elif mode == "custom" and on_event is not None and "tool" in chunk:
                on_event("tool_call", chunk)
            elif mode == "updates":
                trajectory += [node for node in chunk if not node.startswith("__")]
                routed = chunk.get("router")
                if on_event is not None and routed:
                    keys = ("agent", "router_tier", "scores", "route_reason")
                    on_event("route", {k: routed.get(k) for k in keys})
        snapshot = self.graph.get_state(self._config)
        values = snapshot.values
        question = None
        if snapshot.interrupts:
            question = snapshot.interrupts[0].value.get("question")
        return Turn(
            agent=values.get("agent"),
            router_tier=values.get("router_tier", ""),
            scores=values.get("scores", {}),
            tool_calls=values.get("tool_calls", []),
            result=values.get("result"),
            answer="" if question else values.get("answer", ""),
            question=question,
            trajectory=trajectory,
        )


def _request(text: str) -> dict[str, Any]:
    """The graph's input for a new request."""
    return {"request": text, "messages": [{"role": "user", "content": text}]}
