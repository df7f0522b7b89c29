"""Prompt templates live as text files in ``prompts/``; code refers to them by name only."""

from __future__ import annotations

from functools import lru_cache

from tools.common import PROJECT_ROOT, InputError

__all__ = ("load_prompt", "prompt_names", "PROMPTS_DIR")

PROMPTS_DIR = PROJECT_ROOT / "prompts"


def prompt_names() -> list[str]:
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.txt"))


@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.txt``; the error lists the prompts that exist."""
    path = PROMPTS_DIR / f"{name}.txt"
    if not path.is_file():
        raise InputError("prompt", name, prompt_names())
    return path.read_text(encoding="utf-8").strip()
