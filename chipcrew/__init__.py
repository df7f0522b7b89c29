"""ChipCrew: a LangGraph supervisor over chip-design and ML-systems specialists.

Example:
    >>> from chipcrew import ChipCrew
    >>> print(ChipCrew().ask("How much faster is W4A8 on MixPE than INT8 for OPT-6.7B?").answer)
"""

from __future__ import annotations

from typing import Any

__all__ = ("ChipCrew", "Turn", "Settings")


def __getattr__(name: str) -> Any:
    # Lazy, so that importing a submodule (chipcrew.llm, chipcrew.settings) does not build the graph stack.
    if name in ("ChipCrew", "Turn"):
        from . import app

        return getattr(app, name)
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(f"module 'chipcrew' has no attribute {name!r}")
