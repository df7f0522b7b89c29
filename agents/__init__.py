"""The agent registry: every specialist the supervisor can route to, built from its module's ``AGENT``.

To add a specialist, write ``agents/<name>.py`` (or a package ``agents/<name>/``, one module per method, as the
hardware architect does) exporting ``AGENT = AgentSpec(...)`` and list it in ``AGENT_MODULES``. Nothing else
changes: the router, graph and CLI read the registry. An agent imports only ``agents.base`` and the shared
request parsing of ``agents.parsing``, never another agent.
"""

from __future__ import annotations

import importlib

from tools.common import InputError

from .base import AgentSpec, ToolCall, ToolSpec

__all__ = ("AgentSpec", "ToolSpec", "ToolCall", "AGENT_MODULES", "registry", "get_agent", "find_tool")

AGENT_MODULES: tuple[str, ...] = (
    "agents.hardware_architect",
    "agents.opc_engineer",
    "agents.eda_doc_qa",
    "agents.analog_designer",
    "agents.model_compressor",
)


def registry() -> dict[str, AgentSpec]:
    """Registered agents by name, in ``AGENT_MODULES`` order."""
    agents: dict[str, AgentSpec] = {}
    for module in AGENT_MODULES:
        spec: AgentSpec = importlib.import_module(module).AGENT
        if spec.name in agents:
            raise ValueError(f"agent name {spec.name!r} registered twice (second time by {module})")
        agents[spec.name] = spec
    return agents


def get_agent(name: str) -> AgentSpec:
    """The registered agent ``name``; the error lists the registered ones."""
    agents = registry()
    if name not in agents:
        raise InputError("agent", name, list(agents))
    return agents[name]


def find_tool(name: str) -> tuple[AgentSpec, ToolSpec]:
    """The agent owning tool ``name`` and the tool; the error lists every registered tool."""
    agents = registry()
    for agent in agents.values():
        for tool in agent.tools:
            if tool.name == name:
                return agent, tool
    raise InputError("tool", name, [t.name for a in agents.values() for t in a.tools])

