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
from typing import Any

from pydantic import BaseModel

from agents.base import Renderer, ToolCall

__all__ = (
    "NUMBER",
    "SIGNED_INT",
    "COUNT",
    "SEED",
    "BATCH",
    "to_float",
    "first_match",
    "first_int",
    "to_int",
    "seed_list",
    "length_nm",
    "mentions",
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

SIGNED_INT = r"((?:[-−]\s?|minus\s+|negative\s+)?\d+)"
"""An integer with the sign the request writes ("-5", "−5", "minus 5"), as one capture group; read it with ``to_int``.
A stated sign is kept so that a value the tool cannot take fails validation instead of running with its magnitude."""

_SIGN_OK = r"(?<![\w.\-−])"  # a sign only where a number starts: not the hyphen of "M1_test-3" or "10-20"
COUNT = rf"{_SIGN_OK}{SIGNED_INT}"
"""A stated integer where a number starts, sign kept (one capture group, read with ``to_int``)."""
_SET = r"(?:\s*(?:set|fixed|equal)?\s*(?:of|=|:|is|to|at|as)\b|\s*[=:])?"

SEED = re.compile(rf"\bseed{_SET}\s*{SIGNED_INT}(?![\d,]*\s*(?:,|and|to|-)\s*\d)", _I)
""""seed 3", "seed=3", "seed of 3", "seed -1" (kept negative, for validation to refuse); not a list of seeds."""

BATCH = re.compile(rf"\bbatch(?:[\s_-]*size)?{_SET}\s*{SIGNED_INT}\b", _I)
""""batch 8", "batch size of 512", "batch_size=4"."""

_CUDA = re.compile(r"\b(?:cuda|gpu)\b", _I)
_CPU = re.compile(r"\bon\s+(?:the\s+)?cpu\b|\bcpu\s+only\b|\bdevice\s*=?\s*cpu\b", _I)
_OTHER_DEVICE = re.compile(r"\b(?:on|using)\s+(?:the\s+|an?\s+|my\s+)?(tpu|npu|xpu|ipu|mps|fpga|apple\s+silicon)\b", _I)
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


def to_int(number: str) -> int:
    """An integer matched by ``SIGNED_INT`` (or a plain ``\\d+`` group), its sign kept."""
    digits = re.sub(r"[^\d]", "", number)
    negative = re.match(r"\s*(?:[-−]|minus\b|negative\b)", number, _I) is not None
    return -int(digits) if negative else int(digits)


def first_int(text: str, *patterns: re.Pattern[str]) -> int | None:
    """The first non-empty group of the first pattern that matches ``text``, as an int (sign kept)."""
    found = first_match(text, *patterns)
    return None if found is None else to_int(next(g for g in found.groups() if g))


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
    return re.compile(
        rf"{_SIGN_OK}{SIGNED_INT}\s*{between}(?:{nouns})\b|\b(?:{nouns}){_SET}\s*{SIGNED_INT}\b", _I
    )


_WORD_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10}
_SEED_LIST = re.compile(r"\bseeds?\s*(?:of|=|:)?\s*(\d+(?:\s*(?:,|and|&|or)\s*\d+)+)\b", _I)
_SEED_RANGE = re.compile(r"\bseeds?\s*(?:from\s+)?(\d+)\s*(?:-|–|to|\.\.)\s*(\d+)\b", _I)
_SEED_COUNT = re.compile(rf"\b(\d+|{'|'.join(_WORD_COUNT)})\s+(?:random\s+|different\s+)?seeds\b", _I)


def seed_list(text: str) -> list[int] | None:
    """Several seeds: "seeds 1, 2 and 3", "seeds 0-2", "over 3 seeds" (= 0, 1, 2); None for one seed or none."""
    listed = _SEED_LIST.search(text)
    if listed:
        return [int(n) for n in re.findall(r"\d+", listed[1])]
    span = _SEED_RANGE.search(text)
    if span and int(span[1]) < int(span[2]):
        return list(range(int(span[1]), int(span[2]) + 1))
    count = _SEED_COUNT.search(text)
    if count:
        n = _WORD_COUNT.get(count[1].lower()) or int(count[1])
        return list(range(n)) if n > 1 else None
    return None


_NM_PER = {"nm": 1.0, "um": 1e3, "µm": 1e3, "μm": 1e3, "micron": 1e3, "microns": 1e3, "mm": 1e6}
LENGTH = rf"(-?(?:{NUMBER[1:-1]}))\s*-?\s*(nm|um|µm|μm|microns?|mm)\b"
"""A length with its unit ("40 nm", "0.04 um", "0.1 µm", "80-nm"): group 1 the number, group 2 the unit."""


def length_nm(number: str, unit: str) -> float:
    """A length matched by ``LENGTH`` in nanometres."""
    sign = -1.0 if number.strip().startswith("-") else 1.0
    return sign * to_float(number.strip().lstrip("-")) * _NM_PER[unit.lower()]


def mentions(text: str, names: Mapping[Any, re.Pattern[str]] | tuple[tuple[Any, re.Pattern[str]], ...]) -> list[Any]:
    """Every name (or value) whose pattern occurs in ``text``, in order of first occurrence: "compare A, B and C";
    of two opposite settings ("with symmetry" / "without symmetry") the first one said."""
    pairs = names.items() if isinstance(names, Mapping) else names
    hits = sorted((found.start(), name) for name, pattern in pairs if (found := pattern.search(text)))
    return list(dict.fromkeys(name for _, name in hits))


def device(text: str) -> str | None:
    """The device the request asks for, by its first mention: "on the GPU"/"cuda", "on the CPU", or another one
    named ("on the TPU" -> "tpu"), kept as written so that validation says which devices the tool accepts."""
    other = _OTHER_DEVICE.search(text)
    found = (("cuda", _CUDA.search(text)), ("cpu", _CPU.search(text)), (other[1].lower() if other else "", other))
    hits = [(match.start(), name) for name, match in found if match]
    return min(hits)[1] if hits else None


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
