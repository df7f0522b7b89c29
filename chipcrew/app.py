"""The Python API: ``ChipCrew().ask("...")``. The CLI is a thin layer over this class."""

from __future__ import annotations

from typing import Any

from langgraph.types import Command
from pydantic import BaseModel, Field

from agents import registry
from graphs.router import RouteDecision, Router
from graphs.sessions import memory_checkpointer, sqlite_checkpointer
from graphs.supervisor import Runtime, build_supervisor
from tools.common import ProgressFn

from .llm import LLMClient, make_client
from .settings import Settings

__all__ = ("ChipCrew", "Turn")


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
        saver = sqlite_checkpointer(self.settings.sessions_db) if session else memory_checkpointer()
        self.graph = build_supervisor(self.runtime, saver, clarify=clarify)

    @property
    def _config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.thread_id}}

    def route(self, request: str) -> RouteDecision:
        """Only the routing decision; runs no tool."""
        return self.runtime.router.route(request, allow_llm=self.settings.llm_capable)

    def ask(self, request: str, on_progress: ProgressFn | None = None) -> Turn:
        """Answer one request (one turn of the session).

        Args:
            request: the question or task, in plain language.
            on_progress: called as ``on_progress(message, fraction)`` while the tool runs (the signature every
                tool and benchmark reports with; :func:`chipcrew.commands.terminal.progress_bar` draws it).
        """
        inputs = {"request": request, "messages": [{"role": "user", "content": request}]}
        return self._run(inputs, on_progress)

    def resume(self, reply: str, on_progress: ProgressFn | None = None) -> Turn:
        """Answer the clarifying question of the previous turn and carry on."""
        return self._run(Command(resume=reply), on_progress)

    def history(self) -> list[dict[str, str]]:
        """The session's messages, oldest first."""
        return list(self.graph.get_state(self._config).values.get("messages", []))

    def _run(self, inputs: Any, on_progress: ProgressFn | None) -> Turn:
        trajectory: list[str] = []
        for mode, chunk in self.graph.stream(inputs, self._config, stream_mode=["custom", "updates"]):
            if mode == "custom" and on_progress is not None and "fraction" in chunk:
                # the one place where the graph's stream events become progress(message, fraction)
                on_progress(str(chunk.get("message", "")), float(chunk["fraction"]))
            elif mode == "updates":
                trajectory += [node for node in chunk if not node.startswith("__")]
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
