"""The supervisor graph: router -> one agent node (or the no-specialist node) -> end, built from the registry.

One hop per turn keeps routing loops impossible. Agent nodes are made by one factory from ``AgentSpec``
data; nothing here knows any particular agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from pydantic import BaseModel, ValidationError

from agents import AgentSpec, ToolCall, ToolSpec
from chipcrew.llm import LLMClient, LLMError, Message
from chipcrew.settings import Settings
from prompts import load_prompt
from tools.common import ChipCrewError, use_context

from .conversation import (
    empty_memory,
    missing_fields,
    plan_turn,
    remember,
    route_followup,
)
from .router import RouteDecision, Router
from .state import CrewState

__all__ = (
    "MAX_SWEEP_RUNS",
    "NO_SPECIALIST",
    "Runtime",
    "ask_for_missing",
    "build_supervisor",
    "clarifying_question",
    "plan_call",
    "plan_in_session",
    "route_in_session",
)

NO_SPECIALIST = "no_specialist"
MAX_SWEEP_RUNS = 12
"""A comparison asking for more runs than this is refused with the count, not cut short."""

@dataclass
class Runtime:
    """Everything the graph's nodes need, built once per process."""

    settings: Settings
    agents: dict[str, AgentSpec]
    router: Router
    llm: LLMClient


def _accepted(tool: ToolSpec, field: str) -> str:
    """The values ``field`` accepts, in words: the tool's own list, the Literal's values or the numeric bounds."""
    if tool.choices is not None and (listed := tool.choices(field)):
        return ", ".join(listed)
    info = tool.args_model.model_fields.get(field)
    if info is None:
        return ""
    literal = _literal_values(info.annotation)
    if literal:
        return ", ".join(str(v) for v in literal)
    kinds = ("Ge", "Gt", "Le", "Lt")
    bounds = {type(m).__name__: getattr(m, type(m).__name__.lower()) for m in info.metadata if type(m).__name__ in kinds}
    words = {"Ge": ">= {}", "Gt": "> {}", "Le": "<= {}", "Lt": "< {}"}
    return " and ".join(words[k].format(v) for k, v in bounds.items())


def _literal_values(annotation: Any) -> list[Any]:
    """The values of a ``Literal`` annotation, also inside ``X | None``."""
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    if get_origin(annotation) in (Union, UnionType):
        return [v for arg in get_args(annotation) for v in _literal_values(arg)]
    return []


def ask_for_missing(tool: ToolSpec, missing: list[str]) -> str:
    """The question for a call that lacks required arguments: each one by name, with what it accepts."""
    lines = [f"To run `{tool.name}` I need {' and '.join(f'**{m}**' for m in missing)}; nothing was run yet."]
    for name in missing:
        info = tool.args_model.model_fields[name]
        accepted = _accepted(tool, name)
        lines.append(f"- `{name}`: {info.description or ''}" + (f" Accepted: {accepted}." if accepted else ""))
    lines.append("Reply with the value (e.g. just the name) and I will run it.")
    return "\n".join(lines)


def _refusal(tool: ToolSpec, exc: ValidationError) -> str:
    """A stated value the tool cannot take: say which, what was asked and what is accepted; nothing runs instead."""
    lines = [f"I did not run `{tool.name}`: the request asks for a value it cannot take, and nothing else was run instead."]
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "(arguments)"
        asked = f"you asked for {err['input']!r}; " if "input" in err and not isinstance(err["input"], dict) else ""
        accepted = _accepted(tool, field) if field in tool.args_model.model_fields else ""
        lines.append(f"- `{field}`: {asked}{err['msg'].lower()}" + (f" (accepted: {accepted})" if accepted else "") + ".")
    lines.append("Say the value to use and I will run it.")
    return "\n".join(lines)


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
        decision = route_in_session(rt, request, state.get("memory"))
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
        memory = state.get("memory") or empty_memory()
        call, planner, context = plan_in_session(rt, spec, request, memory)
        record = {"tool": call.tool, "args": call.args, "planner": planner} | ({"sweep": call.sweep} if call.sweep else {})
        writer({"agent": spec.name, **record})  # the call as it starts (the web workspace shows it at once)

        def reply(result: dict[str, Any] | None, answer: str, failed: bool) -> dict[str, Any]:
            return _reply(record, result, answer) | {"memory": remember(memory, spec.name, context, call, result, failed)}

        try:
            tool = spec.tool(call.tool)
        except ChipCrewError as exc:
            return reply(None, f"{call.tool} failed: {exc}", True)
        missing = missing_fields(tool.args_model, call.args)
        if missing:
            return reply(None, ask_for_missing(tool, missing), True)
        runs = call.runs()
        if len(runs) > MAX_SWEEP_RUNS:
            answer = (f"The comparison asks for {len(runs)} runs of `{call.tool}` ({', '.join(f'{k}: {v}' for k, v in call.sweep.items())}); "
                      f"one request runs at most {MAX_SWEEP_RUNS}. Nothing was run: name fewer methods or seeds, or use "
                      "the benchmark (`chipcrew bench --help`).")
            return reply(None, answer, True)
        try:  # every run's arguments first: a comparison never stops half-way on a value it cannot take
            for args in runs:
                tool.args_model.model_validate(args)
        except ValidationError as exc:
            return reply(None, _refusal(tool, exc), True)
        results: list[tuple[dict[str, Any], BaseModel]] = []
        try:
            for i, args in enumerate(runs):
                def progress(msg: str, frac: float, i: int = i) -> None:
                    writer({"agent": spec.name, "message": msg, "fraction": (i + frac) / len(runs)})

                results.append((args, tool.invoke(args, progress=progress, llm=rt.llm, ctx=rt.settings.run_context())))
        except ValidationError as exc:
            return reply(None, _refusal(tool, exc), True)
        except ChipCrewError as exc:
            return reply(None, f"{call.tool} failed: {exc}", True)
        if not call.sweep:
            (args, result), = results
            answer = _phrase(rt, spec, request, spec.render(ToolCall(tool=call.tool, args=args), result))
            return reply(result.model_dump(mode="json"), answer, False)
        return reply({"runs": [r.model_dump(mode="json") for _, r in results]}, _render_sweep(spec, call, results), False)

    return run_agent


def _reply(record: dict[str, Any], result: dict[str, Any] | None, answer: str) -> dict[str, Any]:
    return {"tool_calls": [record], "result": result, "answer": answer, "messages": [{"role": "assistant", "content": answer}]}


def _render_sweep(spec: AgentSpec, call: ToolCall, results: list[tuple[dict[str, Any], BaseModel]]) -> str:
    """A comparison: one section per run (its values of the swept arguments, then the agent's own answer)."""
    keys = list(call.sweep)
    lines = [f"**Comparison of {len(results)} runs of `{call.tool}`** over " + ", ".join(f"{k} {call.sweep[k]}" for k in keys) + ".", ""]
    for args, result in results:
        label = ", ".join(f"{k}={args[k]}" for k in keys)
        lines += [f"### {label}", "", spec.render(ToolCall(tool=call.tool, args=args), result), ""]
    return "\n".join(lines)


def route_in_session(rt: Runtime, request: str, memory: dict[str, Any] | None) -> Any:
    """The router's decision, with a follow-up the router cannot place sent to the agent of the last turn."""
    decision = rt.router.route(request, allow_llm=rt.settings.llm_capable)
    agent = route_followup(request, decision.agent, memory)
    if agent != decision.agent and agent in rt.agents:
        return replace(decision, agent=agent, tier="session", reason="follow-up of the previous turn", needs_clarification=False)
    return decision


def plan_in_session(
    rt: Runtime, spec: AgentSpec, request: str, memory: dict[str, Any] | None
) -> tuple[ToolCall, str, str]:
    """The call for a turn of a session: planned alone (``plan_call``), then read against what the session
    remembers (``graphs.conversation.plan_turn``: carried-over clip/circuit/model, "again with ...", corrections).
    Returns the call, the planner that made the first reading (``deterministic`` or ``llm``) and the request to
    remember for the turn."""
    first, planner = plan_call(rt, spec, request)

    def deterministic(text: str) -> ToolCall:
        with use_context(rt.settings.run_context()):
            return spec.plan(text)

    call, context = plan_turn(spec, request, memory, deterministic, first=first)
    return call, planner, context


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
