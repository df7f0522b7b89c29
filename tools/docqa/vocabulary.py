"""The OpenROAD vocabulary of the shipped documentation: Tcl command names, their ``-option`` flags, the
flow-scripts variables and the tools' short names (``gpl``, ``grt``, ``drt``: the source folders of the docs).

Any of these words in a request is strong evidence that it is a question about OpenROAD (the router's doc-QA
evidence): nobody outside the tool writes ``set_global_routing_layer_adjustment`` or ``PLACE_DENSITY``. Only
commands with an underscore are kept, so plain words (``set``, ``source``, ``restructure``) never count.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

__all__ = ("openroad_terms",)

_SHIPPED = Path(__file__).resolve().parent / "openroad-docs"
_TCL_COMMAND = re.compile(r"^```tcl\s*\n\s*([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b", re.M)
_FLAG = re.compile(r"(?<![\w-])-([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b")
_COMMON_WORDS = frozenset({"ant", "fin", "gui", "pad", "par", "tap"})  # module folders named like English words
_FLOW_VARIABLE = re.compile(r"^\|\s*`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", re.M)


@lru_cache(maxsize=2)
def openroad_terms(folder: Path = _SHIPPED) -> tuple[str, ...]:
    """Sorted lower-case command names, ``-flag`` names (with the dash) and flow variables found in ``folder``."""
    commands: set[str] = set()
    flags: set[str] = set()
    for path in sorted(folder.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        commands.update(_TCL_COMMAND.findall(text))
        flags.update(f"-{f}" for f in _FLAG.findall(text))
        commands.update(v.lower() for v in _FLOW_VARIABLE.findall(text))
    modules = {p.parent.name for p in folder.glob("OpenROAD/src/*/README.md")} - _COMMON_WORDS  # gpl, grt, drt, ...
    return tuple(sorted(commands | flags | modules))
