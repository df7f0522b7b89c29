"""Prompt templates: the ``*.txt`` files beside this module, shipped as package data and loaded by name.

Code refers to a prompt by its name only (``load_prompt("router")``); no prompt text is written in code.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from tools.common import InputError

__all__ = ("load_prompt", "prompt_names")


def prompt_names() -> list[str]:
    """Names of the prompts that exist (file names without ``.txt``)."""
    return sorted(p.name[: -len(".txt")] for p in resources.files(__name__).iterdir() if p.name.endswith(".txt"))


@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.txt``; the error lists the prompts that exist."""
    path = resources.files(__name__) / f"{name}.txt"
    if not path.is_file():
        raise InputError("prompt", name, prompt_names())
    return path.read_text(encoding="utf-8").strip()
