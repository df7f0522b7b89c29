"""Every registered agent holds together: its prompt file exists, its tool names are its own, and its planner
fills arguments its tools accept on every dev request we have for it (eval datasets and its own examples)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agents import AgentSpec, registry
from eval.schema import load_cases

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
AGENTS = registry()


def _dev_requests(agent: str) -> list[str]:
    """The agent's dev-split requests from the routing, tool-call and task datasets, then its examples; not the tool
    cases that state a value the tool cannot take (their call must fail validation)."""
    requests = [c.request for c in load_cases("routing", "dev") if c.expected_agent == agent]
    requests += [c.request for c in load_cases("tools", "dev") if c.agent == agent and c.valid]
    requests += [c.request for c in load_cases("tasks", "dev") if c.agent == agent]
    requests += AGENTS[agent].examples
    return list(dict.fromkeys(requests))


@pytest.mark.parametrize("spec", AGENTS.values(), ids=list(AGENTS))
def test_prompt_file_exists(spec: AgentSpec) -> None:
    path = PROMPTS / f"{spec.prompt}.txt"
    assert path.is_file(), f"{spec.name}: no prompt file {path}"
    assert path.read_text(encoding="utf-8").strip(), f"{spec.name}: {path} is empty"


def test_tool_names_are_unique_across_agents() -> None:
    owners: dict[str, str] = {}
    for spec in AGENTS.values():
        for tool in spec.tools:
            assert tool.name not in owners, f"tool {tool.name!r} registered by {owners[tool.name]} and {spec.name}"
            owners[tool.name] = spec.name


@pytest.mark.parametrize("spec", AGENTS.values(), ids=list(AGENTS))
def test_every_agent_has_dev_requests(spec: AgentSpec) -> None:
    assert len(_dev_requests(spec.name)) > len(spec.examples), f"{spec.name} has no dev cases in eval/datasets"


@pytest.mark.parametrize(
    ("agent", "request_text"),
    [(name, request) for name in AGENTS for request in _dev_requests(name)],
)
def test_planner_output_validates_against_the_tool_model(agent: str, request_text: str) -> None:
    """Every planned run validates once the required arguments the request left out are supplied (the session
    supplies them from earlier turns, or the agent asks for them by name)."""
    spec = AGENTS[agent]
    call = spec.plan(request_text)
    assert call.tool in {t.name for t in spec.tools}, f"{agent} planned unknown tool {call.tool!r}"
    model = spec.tool(call.tool).args_model
    for args in call.runs():
        try:
            model.model_validate(args)
        except ValidationError as exc:
            assert all(e["type"] == "missing" for e in exc.errors()), str(exc)
