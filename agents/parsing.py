"""What every planner reads from a request and every answer template prints, defined once.

Requests name the same kinds of things whatever the specialist: a seed, a device, paths and files, an output
folder, counts ("40 iterations", "3 training epochs"), numbers written with thousands separators. Answers print
the same kinds of numbers (milliseconds, percentages, a dash for what was not measured) and list the artefacts
a tool wrote. The planners take these from here so that the five specialists read and write them alike; what
only one method needs (clip names, fan-outs, net weights) stays in its agent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel

from agents.base import Renderer, ToolCall

__all__ = (
    "NUMBER",
    "SEED",
    "BATCH",
    "to_float",
    "first_match",
    "first_int",
    "put_int",
    "counted",
    "device",
    "out_dir",
    "rooted_paths",
    "quoted",
    "file_pattern",
    "MISSING",
    "num",
    "ms",
    "pct",
    "artifact_lines",
    "render_by_type",
)

_I = re.IGNORECASE

NUMBER = r"(\d{1,3}(?:[,_]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
"""A decimal number as written ("2.5", ".5", "1,000,000", "1_000"), as one capture group; read it with ``to_float``."""

SEED = re.compile(r"\bseed\s*(?:of|=|:|is)?\s*(\d+)\b", _I)
""""seed 3", "seed=3", "seed of 3"."""

BATCH = re.compile(r"\bbatch(?:[\s_-]*size)?\s*(?:of|=|:|is)?\s*(\d+)\b", _I)
""""batch 8", "batch size of 512", "batch_size=4"."""

_CUDA = re.compile(r"\b(?:cuda|gpu)\b", _I)
_CPU = re.compile(r"\bon\s+(?:the\s+)?cpu\b|\bcpu\s+only\b|\bdevice\s*=?\s*cpu\b", _I)
_OUT_DIR = re.compile(
    r"(?:--out|out_dir|(?:save|write|put)\s+(?:it\s+|them\s+|the\s+\w+\s+)?(?:to|in|into))\s*=?\s*([\w./~-]+/?)", _I
)
_ROOTED = re.compile(r"(?<![\w/.~-])((?:~|\.{1,2})?/[\w.+@~-]+(?:/[\w.+@~-]+)*/?)")
_QUOTED = re.compile(r"""["'`]([^"'`]+)["'`]""")
_TRAILING = re.compile(r"(?<=\w)[.,;:!?]+$")


def to_float(number: str) -> float:
    """A number matched by ``NUMBER``, thousands separators dropped."""
    return float(number.replace(",", "").replace("_", ""))


def first_match(text: str, *patterns: re.Pattern[str]) -> re.Match[str] | None:
    """The match of the first pattern (in the order given, most specific first) that matches ``text``."""
    return next((found for pattern in patterns if (found := pattern.search(text))), None)


def first_int(text: str, *patterns: re.Pattern[str]) -> int | None:
    """The first non-empty group of the first pattern that matches ``text``, as an int."""
    found = first_match(text, *patterns)
    return None if found is None else int(next(g for g in found.groups() if g))


def put_int(args: dict[str, Any], key: str, text: str, *patterns: re.Pattern[str]) -> None:
    """``args[key] = first_int(text, *patterns)`` when one of the patterns matches; otherwise ``args`` is untouched."""
    value = first_int(text, *patterns)
    if value is not None:
        args[key] = value


def counted(nouns: str, qualifier: str = "") -> re.Pattern[str]:
    """A count of ``nouns`` as the request writes it: "40 iterations", "3 training epochs", "iterations: 40"
    (read it with ``first_int``/``put_int``).

    Args:
        nouns: regex alternatives, e.g. ``r"iterations?|steps?"``.
        qualifier: optional regex alternatives allowed between the number and the noun, e.g. ``r"training|real"``.
    """
    between = rf"(?:(?:{qualifier})\s+)?" if qualifier else ""
    return re.compile(rf"\b(\d+)\s*{between}(?:{nouns})\b|\b(?:{nouns})\s*(?:of|=|:|is)?\s*(\d+)\b", _I)


def device(text: str) -> Literal["cuda", "cpu"] | None:
    """The torch device the request asks for, by its first mention: "on the GPU"/"cuda", or "on the CPU"."""
    mentions = (("cuda", _CUDA.search(text)), ("cpu", _CPU.search(text)))
    hits = [(found.start(), name) for name, found in mentions if found]
    return min(hits)[1] if hits else None  # type: ignore[return-value]


def out_dir(text: str) -> str | None:
    """The output folder in "save it to runs/t6", "write the results into out/", "--out runs/x", "out_dir=x"."""
    found = _OUT_DIR.search(text)
    return found[1] if found else None


def rooted_paths(text: str) -> list[str]:
    """Paths written from a root: ``/data/x``, ``./docs``, ``../m``, ``~/notes``, in order, without a trailing
    slash or sentence punctuation. Slashes between words ("VO1M/VO1P", "fan-out 10/5") are not paths."""
    return [_TRAILING.sub("", found[1]).rstrip("/") for found in _ROOTED.finditer(text)]


def quoted(text: str) -> list[str]:
    """Strings in quotes or backticks, in order."""
    return _QUOTED.findall(text)


def file_pattern(*extensions: str) -> re.Pattern[str]:
    """Relative or rooted file names with one of ``extensions``: group 1 the path, group 2 the extension."""
    return re.compile(rf"(?:^|\s)((?:[\w.~-]*/)*[\w.~-]+\.({'|'.join(extensions)}))\b", _I)


MISSING = "–"
"""How an answer prints a number that was not measured."""


def num(value: float | None, fmt: str = ",.2f", scale: float = 1.0, unit: str = "") -> str:
    """``value * scale`` in format ``fmt`` followed by ``unit``, or ``MISSING`` for None."""
    return MISSING if value is None else f"{format(value * scale, fmt)}{unit}"


def ms(seconds: float | None) -> str:
    """Seconds shown as milliseconds, one decimal."""
    return num(seconds, ",.1f", 1e3)


def pct(fraction: float | None) -> str:
    """A fraction shown as a percentage, one decimal."""
    return num(fraction, ".1%")


def artifact_lines(artifacts: Mapping[str, str]) -> list[str]:
    """One markdown bullet per file a tool wrote: ``- kind: `path```."""
    return [f"- {kind}: `{path}`" for kind, path in artifacts.items()]


def render_by_type(agent: str, renderers: Mapping[type[BaseModel], Callable[[Any], str]]) -> Renderer:
    """An agent's ``render``: the template registered for the result's type; other results are a bug and say so."""

    def render(call: ToolCall, result: BaseModel) -> str:
        for kind, template in renderers.items():
            if isinstance(result, kind):
                return template(result)
        raise TypeError(f"{agent} cannot render a {type(result).__name__} (from {call.tool})")

    return render
