"""The supervisor graph: router -> one agent node (or the no-specialist node) -> end, built from the registry.

One hop per turn keeps routing loops impossible. Agent nodes are made by one factory from ``AgentSpec``
data; nothing here knows any particular agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from pydantic import BaseModel, ValidationError

from agents import AgentSpec, ToolCall
from chipcrew.llm import LLMClient, LLMError, Message
from chipcrew.settings import Settings
from prompts import load_prompt
from tools.common import ChipCrewError, use_context

from .router import RouteDecision, Router
from .state import CrewState

__all__ = ("Runtime", "build_supervisor", "plan_call", "clarifying_question", "NO_SPECIALIST", "format_validation_error")

NO_SPECIALIST = "no_specialist"


@dataclass
class Runtime:
    """Everything the graph's nodes need, built once per process."""

    settings: Settings
    agents: dict[str, AgentSpec]
    router: Router
    llm: LLMClient


def format_validation_error(exc: ValidationError) -> str:
    """pydantic's errors as ``field: message (got value)`` lines."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
        lines.append(f"{loc}: {err['msg']}{got}")
    return f"invalid arguments for {exc.title}:\n  " + "\n  ".join(lines)


def build_supervisor(rt: Runtime, checkpointer: BaseCheckpointSaver | None = None, clarify: bool = False) -> Any:
    """Compile the supervisor. With ``clarify`` an uncertain route asks the user (LangGraph ``interrupt``)."""
    graph = StateGraph(CrewState)
    graph.add_node("router", _router_node(rt, clarify))
    graph.add_node(NO_SPECIALIST, _no_specialist_node(rt))
    for name, spec in rt.agents.items():
        if name in ("router", NO_SPECIALIST):
            raise ValueError(f"agent name {name!r} collides with a supervisor node; rename the agent")
        graph.add_node(name, _agent_node(rt, spec))
        graph.add_edge(name, END)
    graph.add_edge(START, "router")
    graph.add_conditional_edges(
        "router", lambda s: s.get("agent") or NO_SPECIALIST, [*rt.agents, NO_SPECIALIST]
    )
    graph.add_edge(NO_SPECIALIST, END)
    return graph.compile(checkpointer=checkpointer)


def _router_node(rt: Runtime, clarify: bool) -> Any:
    def route(state: CrewState) -> dict[str, Any]:
        request = state["request"]
        decision = rt.router.route(request, allow_llm=rt.settings.llm_capable)
        if decision.needs_clarification and clarify and len(decision.candidates) >= 2:
            reply = interrupt(clarifying_question(rt, decision.candidates))
            choice = rt.router.pick(str(reply), decision.candidates, request)
            reason = f"the user chose {choice}" if choice else "the user chose neither specialist"
            decision = RouteDecision(choice, "clarify", decision.scores, reason=reason)
        return {
            "agent": decision.agent,
            "router_tier": decision.tier,
            "scores": decision.scores,
            "route_reason": decision.reason,
            "tool_calls": [],
            "result": None,
            "answer": "",
        }

    return route


def clarifying_question(rt: Runtime, candidates: tuple[str, ...]) -> dict[str, Any]:
    """The interrupt's payload: a question naming the two best agents and what each does."""
    first, second = candidates[:2]

    def what(name: str) -> str:
        return rt.agents[name].description.split(":")[0].split(";")[0].rstrip(".")

    question = (
        f"I am not sure who should handle this. The {first} ({what(first)}) or the {second} ({what(second)})? "
        "Answer with one of them, or 'neither'."
    )
    return {"question": question, "options": [first, second]}


def _no_specialist_node(rt: Runtime) -> Any:
    def no_specialist(state: CrewState) -> dict[str, Any]:
        lines = [f"No specialist handles this request ({state.get('route_reason', 'no match')})."]
        lines.append("Available specialists:")
        lines += [f"- **{a.name}**: {a.description}" for a in rt.agents.values()]
        lines.append("Name one in your request (e.g. '@hardware_architect ...') to choose it yourself.")
        answer = "\n".join(lines)
        return {"answer": answer, "messages": [{"role": "assistant", "content": answer}]}

    return no_specialist


def _agent_node(rt: Runtime, spec: AgentSpec) -> Any:
    def run_agent(state: CrewState) -> dict[str, Any]:
        writer = get_stream_writer()
        request = state["request"]
        call, planner = plan_call(rt, spec, request)
        record = {"tool": call.tool, "args": call.args, "planner": planner}
        try:
            tool = spec.tool(call.tool)
            result: BaseModel = tool.invoke(
                call.args,
                progress=lambda msg, frac: writer({"agent": spec.name, "message": msg, "fraction": frac}),
                llm=rt.llm,
                ctx=rt.settings.run_context(),
            )
        except ValidationError as exc:
            return _reply(record, None, format_validation_error(exc))
        except ChipCrewError as exc:
            return _reply(record, None, f"{call.tool} failed: {exc}")
        answer = _phrase(rt, spec, request, spec.render(call, result))
        return _reply(record, result.model_dump(mode="json"), answer)

    return run_agent


def _reply(record: dict[str, Any], result: dict[str, Any] | None, answer: str) -> dict[str, Any]:
    return {"tool_calls": [record], "result": result, "answer": answer, "messages": [{"role": "assistant", "content": answer}]}


def plan_call(rt: Runtime, spec: AgentSpec, request: str) -> tuple[ToolCall, str]:
    """The tool call: by LLM tool calling when a capable endpoint is set (falling back), else the planner."""
    if rt.settings.llm_capable:
        tools = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.args_model.model_json_schema()},
            }
            for t in spec.tools
        ]
        try:
            reply = rt.llm.chat(
                [Message(role="system", content=load_prompt(spec.prompt)), Message(role="user", content=request)],
                tools=tools,
            )
            if reply.tool_calls:
                chosen = reply.tool_calls[0]
                spec.tool(chosen.name).args_model.model_validate(chosen.arguments)
                return ToolCall(tool=chosen.name, args=chosen.arguments), "llm"
        except (LLMError, ValidationError, ChipCrewError):
            pass  # the deterministic planner below is always there
    with use_context(rt.settings.run_context()):  # a planner may look at data (e.g. which via clips exist)
        return spec.plan(request), "deterministic"


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _phrase(rt: Runtime, spec: AgentSpec, request: str, template: str) -> str:
    """Polish the template answer with the LLM where one is configured; never let it change a number."""
    if rt.llm.name == "none":
        return template
    try:
        if rt.settings.llm_capable:
            prompt = load_prompt("answer").format(agent=spec.name, description=spec.description, results=template)
            text = rt.llm.chat([Message(role="system", content=prompt), Message(role="user", content=request)]).content
            return text if _numbers_kept(text, template) else template
        finding = template.strip().splitlines()[0].replace("**", "")
        messages = [Message(role="system", content=load_prompt("summary")), Message(role="user", content=finding)]
        text = rt.llm.chat(messages, max_tokens=60).content.strip()
        text = text.splitlines()[0] if text else ""
        complete = text.endswith((".", "!", "?"))  # a reply cut off by max_tokens is dropped
        useful = complete and text != finding and _NUMBER.search(text) and _labels_kept(text, finding)
        return f"{text}\n\n{template}" if useful else template
    except LLMError:
        return template


def _numbers_kept(text: str, source: str) -> bool:
    """Every number in ``text`` appears in ``source`` (a guard against a small model inventing values)."""
    allowed = set(_NUMBER.findall(source))
    return all(n in allowed for n in _NUMBER.findall(text))


_TOKEN = re.compile(r"[A-Za-z][\w-]*|\d+(?:[.,]\d+)?")


def _labelled_numbers(text: str) -> set[tuple[str, ...]]:
    """Each number with the two words or numbers before it."""
    tokens = ["", "", *_TOKEN.findall(text)]
    return {tuple(tokens[i - 2 : i + 1]) for i in range(2, len(tokens)) if tokens[i][0].isdigit()}


def _labels_kept(text: str, source: str) -> bool:
    """Every number in ``text`` keeps the two words before it in ``source``: the small model may shorten a finding
    but not move a value to another label ("visionzip 0.787, random 0.933" must not become "0.933, random ...")."""
    return _labelled_numbers(text) <= _labelled_numbers(source)
