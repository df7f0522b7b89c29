"""Fixtures for the analog tests: ngspice and the shared analog data (skip, saying what is missing) and a
scripted LLM that answers LLANA's three prompts (the shipped templates) with fixed replies."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import pytest

from chipcrew.llm.adapters import llana_prompts
from tools.analog.llana import LLANAPrompts
from tools.common import DataNotFoundError, shared_data_dir


@pytest.fixture(scope="session")
def analog_data() -> None:
    """Skip (naming where the data belongs) when shared/data/analog is not there."""
    try:
        shared_data_dir("analog")
    except DataNotFoundError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def ngspice(analog_data: None) -> str:
    """The ngspice executable; skip when it is not installed (scripts/setup.sh installs it with apt)."""
    exe = shutil.which("ngspice")
    if exe is None:
        pytest.skip("ngspice is not installed (apt-get install ngspice)")
    return exe


class ScriptedLLM:
    """Deterministic stand-in for an LLM: fixed replies per prompt kind, every prompt recorded."""

    def __init__(self, candidate: Callable[[int], str], score: str = '{"score": -0.5}', constraint: str = "{}"):
        self.candidate, self.score, self.constraint = candidate, score, constraint
        self.prompts: list[tuple[str, dict[str, Any] | None]] = []

    def __call__(self, prompt: str, *, schema: dict[str, Any] | None = None) -> str:
        self.prompts.append((prompt, schema))
        if "Predict the score" in prompt:
            return self.score
        if "Narrow each knob" in prompt:
            return self.constraint
        return self.candidate(len(self.prompts))


@pytest.fixture
def scripted_llm() -> Callable[..., ScriptedLLM]:
    return ScriptedLLM


@pytest.fixture(scope="session")
def llana_templates() -> LLANAPrompts:
    """The LLANA templates ChipCrew ships (the scripted LLM recognises their wording)."""
    return llana_prompts()
