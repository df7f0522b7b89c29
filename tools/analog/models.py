"""Device model cards for ngspice: the gf180mcu 3.3 V BSIM4 cards from the shared data, or a user file.

The full gf180mcu library (``sm141064.ngspice``, 1.35 MB) wraps each MOSFET in a Monte-Carlo subcircuit and
needs ``design.ngspice`` and ``ngbehavior=hs``. The loop only needs the binned ``.model nmos_3p3.N`` and
``pmos_3p3.N`` cards of the typical corner (sections ``nmos_3p3_t`` and ``pmos_3p3_t``), whose only free
parameters are the flicker-noise coefficients of section ``noise_corner``; extracting them once into a cached
file cuts ngspice's parse time and keeps mismatch under our control (the layout decides it, not ``agauss``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tools.common import InputError, shared_data_dir, user_cache_dir

__all__ = ("ModelLibrary", "gf180_library", "user_library")

_GF180_FILE = Path("gf180mcu") / "models" / "ngspice" / "sm141064.ngspice"
_SECTIONS = ("nmos_3p3_t", "pmos_3p3_t")
_FORMAT = 2  # bump when _extract changes, so cached files from older code are not reused


@dataclass(frozen=True)
class ModelLibrary:
    """A file to ``.include`` and the model names of the two device types in it."""

    path: Path
    nmos: str
    pmos: str
    source: str


def gf180_library(cache_dir: Path | None = None) -> ModelLibrary:
    """The typical-corner gf180mcu 3.3 V cards, extracted once into ``cache_dir`` (default: user cache).

    Raises:
        DataNotFoundError: ``analog/gf180mcu`` is not in the shared data.
    """
    source = shared_data_dir("analog") / _GF180_FILE
    folder = cache_dir or user_cache_dir() / "analog"
    target = folder / f"gf180mcu_3p3_typical.v{_FORMAT}.lib"
    if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        folder.mkdir(parents=True, exist_ok=True)
        text = _extract(source.read_text(encoding="latin-1").replace("\r\n", "\n"))
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(target)  # atomic: parallel workers never read a half-written file
    return ModelLibrary(path=target, nmos="nmos_3p3", pmos="pmos_3p3", source=str(source))


def user_library(path: str | os.PathLike[str], nmos: str, pmos: str) -> ModelLibrary:
    """A user-supplied model file defining ``nmos`` and ``pmos`` (``.model`` or ``.subckt`` with d g s b)."""
    file = Path(path)
    if not file.is_file():
        raise InputError("model_file", str(path), "an existing SPICE file with the two device models")
    text = file.read_text(encoding="latin-1").lower()
    for field, name in (("nmos_model", nmos), ("pmos_model", pmos)):
        if not re.search(rf"^\s*\.(?:model|subckt)\s+{re.escape(name.lower())}(?:\.\d+)?\s", text, re.M):
            raise InputError(field, name, f"a model or subckt name defined in {file}")
    return ModelLibrary(path=file.resolve(), nmos=nmos, pmos=pmos, source=str(file))


def _extract(text: str) -> str:
    """``.model`` cards of the two typical sections plus the noise parameters they reference."""
    out = ["* gf180mcu 3.3 V MOSFET cards, typical corner, extracted from sm141064.ngspice (Apache-2.0)"]
    out += [".param fnoicor=0", *_noise_params(text)]
    section: str | None = None
    in_model = False
    for raw in text.split("\n"):
        line = raw.strip()
        low = line.lower()
        words = low.split()
        if len(words) == 2 and words[0] == ".lib":
            section, in_model = words[1], False
            continue
        if low.startswith(".endl"):
            section, in_model = None, False
            continue
        if section not in _SECTIONS:
            continue
        if low.startswith(".model"):
            in_model = words[1].startswith(("nmos_3p3.", "pmos_3p3."))  # not the _sab resistors' diodes
            if in_model:
                out.append(line)
        elif in_model and line.startswith("+"):
            out.append(line)
        elif in_model and line and not line.startswith("*"):
            in_model = False
    if sum(1 for line in out if line.lower().startswith(".model")) < 2:
        raise InputError("model file", "sm141064.ngspice", "the gf180mcu library with nmos_3p3_t and pmos_3p3_t sections")
    return "\n".join(out) + "\n"


def _noise_params(text: str) -> list[str]:
    """The ``.param`` continuation lines of section ``noise_corner`` for the 3.3 V devices."""
    found = re.search(r"^\.lib noise_corner\n(.*?)^\.endl", text, re.M | re.S | re.I)
    if not found:
        return []
    lines = [ln.strip() for ln in found[1].split("\n") if re.match(r"\s*\+\s*[np]mos_3p3_noi", ln)]
    return [".param", *lines] if lines else []
