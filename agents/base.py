"""What an agent is: data (name, description, example utterances, tools) plus a deterministic planner.

The supervisor is built from these specs alone; there is no per-agent code anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from tools.common import ProgressFn, RunContext, use_context

__all__ = ("ToolSpec", "ToolCall", "AgentSpec", "Planner", "Renderer")


@dataclass(frozen=True)
class ToolSpec:
    """One tool an agent may call: ``run(args_model(**args), progress=...) -> ToolResult``."""

    name: str
    description: str
    args_model: type[BaseModel]
    run: Callable[..., BaseModel]
    wants_llm: bool = False
    """``run`` also takes ``llm=`` (the configured client, or None), e.g. LLANA's LLM-in-the-loop optimiser."""
    choices: Callable[[str], list[str]] | None = None
    """The accepted values of a free-form field (e.g. the clip names), for asking the user when one is missing."""

    def invoke(
        self, args: dict[str, Any], progress: ProgressFn | None = None, llm: Any = None, ctx: RunContext | None = None
    ) -> BaseModel:
        """Validate ``args`` against the tool's model and run it, in the run context ``ctx`` when one is given
        (set here, in the thread that runs the tool, so it holds wherever the caller schedules the call)."""
        model = self.args_model.model_validate(args)
        with use_context(ctx) if ctx is not None else nullcontext():
            if self.wants_llm:
                return self.run(model, progress=progress, llm=llm)
            return self.run(model, progress=progress)


class ToolCall(BaseModel):
    """A typed tool call, the same whether a planner or an LLM produced it.

    ``sweep`` asks for a comparison: the tool runs once per combination of the listed values (``{"method":
    ["ilt", "diffopc"], "seed": [0, 1]}`` is four runs), each merged into ``args``; a request that compares methods
    or seeds gets every run it names, never silently one.
    """

    tool: str
    args: dict[str, Any] = {}
    sweep: dict[str, list[Any]] = {}

    def runs(self) -> list[dict[str, Any]]:
        """The argument sets to run: ``args`` alone, or one per combination of the ``sweep`` values."""
        combos: list[dict[str, Any]] = [dict(self.args)]
        for name, values in self.sweep.items():
            combos = [combo | {name: value} for combo in combos for value in values]
        return combos

    def stated(self) -> dict[str, Any]:
        """Arguments and swept lists together: what the request asked for, as the eval scores it."""
        return {**self.args, **self.sweep}


Planner = Callable[[str], ToolCall]
"""Deterministic planner: request text -> the tool to call and its arguments."""

Renderer = Callable[[ToolCall, BaseModel], str]
"""Template answer: the call and the tool's result -> markdown text for the user."""


@dataclass(frozen=True)
class AgentSpec:
    """A specialist: what the router needs to pick it and what the agent node needs to run it.

    Attributes:
        name: registry key, e.g. ``"hardware_architect"``.
        description: one sentence for listings and for the LLM router.
        examples: example utterances for the semantic router (never taken from eval held-out cases).
        keywords: lower-case terms that are strong evidence for this agent.
        tools: the tools it may call.
        plan: the deterministic planner.
        render: the template answer writer.
        prompt: name of the system prompt file under ``prompts/`` (without ``.txt``).
        commands: words that name this agent when a request starts with them (``docqa ...``).
        vocabulary: returns further terms that are strong evidence for this agent (e.g. every OpenROAD command
            name in the docs index); called once when the router is built, so it may read files.
    """

    name: str
    description: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]
    tools: tuple[ToolSpec, ...]
    plan: Planner
    render: Renderer
    prompt: str
    commands: tuple[str, ...] = field(default=())
    vocabulary: Callable[[], tuple[str, ...]] | None = None

    def tool(self, name: str) -> ToolSpec:
        """The tool called ``name``; the error lists this agent's tools."""
        for spec in self.tools:
            if spec.name == name:
                return spec
        from tools.common import InputError

        raise InputError("tool", name, [t.name for t in self.tools])
