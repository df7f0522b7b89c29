"""The clip registry: the 10 ICCAD 2013 M1 clips, the 10 LithoBench via1 clips, the 165 contact clips, the 271
LithoBench StdMetal clips, and any ``.glp``/``.gds``/``.oas`` file, each placed on the 2048 x 2048 canvas by its
suite's convention.

StdMetal clips are named ``metal:<cell>__<i>_<j>``: 81 of their cell names are also contact clip names.

Placement (shared/data/iccad13/README.md, shared/data/via/README.md, shared/data/metal/README.md):
* ``iccad13``, ``metal`` (and user files): bounding box centred, ``delta = (2048 - extent) // 2 - min`` per axis,
  as OpenILT's ``Design.center(2048, 2048, 0, 0)`` and LithoBench's ``design.center(2048, 2048, ...)``;
* ``via`` and ``contact``: every coordinate + 384 nm, as LithoBench's ``design.mat(2048, 2048, 384, 384)``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from tools.common import InputError, shared_data_dir
from tools.litho.layout import Layout, read_gds, read_glp

__all__ = ("Suite", "SUITES", "Clip", "CANVAS", "METAL_PREFIX", "list_clips", "load_clip", "place")

Suite = Literal["iccad13", "via", "contact", "metal"]
SUITES: tuple[str, ...] = get_args(Suite)
METAL_PREFIX = "metal:"
CANVAS = 2048  # ICCAD13 tile: 2048 x 2048 px at 1 nm/px (shared/data/iccad13/README.md)
_FILE_SUFFIXES = (".gds", ".gdsii", ".oas", ".oasis")
LITHOBENCH_OFFSET = 384  # lithobench/evaluate.py getTargets: design.mat(2048, 2048, 384, 384)


@dataclass(frozen=True)
class Clip:
    """A target placed on the canvas.

    Attributes:
        name: registry name (``M1_test1``, ``aes_via1__217_754``, ``AND2_X4__0_0``, ``metal:AND2_X4__0_0``) or
            file stem.
        suite: ``iccad13``, ``via``, ``contact``, ``metal`` or ``custom`` (a user file).
        layout: polygons in canvas coordinates (nm = px).
        path: the source file.
        offset: ``(dx, dy)`` added to the file's coordinates; subtract it to go back (e.g. ``write_gds``).
    """

    name: str
    suite: str
    layout: Layout
    path: Path
    offset: tuple[int, int]


def _suite_dir(suite: str) -> Path:
    if suite == "iccad13":
        return shared_data_dir("iccad13")
    if suite == "metal":
        return shared_data_dir("metal") / "StdMetal"
    return shared_data_dir("via") / ("OpenROAD" if suite == "via" else "StdContact")


def _natural_key(name: str) -> list[object]:
    """Sort M1_test2 before M1_test10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def list_clips(suite: Suite) -> list[str]:
    """Names of a suite's clips, sorted (naturally: ``M1_test1`` .. ``M1_test10``; ``metal:`` names for StdMetal).

    Raises:
        InputError: unknown suite. DataNotFoundError: the shared data folder is missing.
    """
    if suite not in SUITES:
        raise InputError("suite", suite, SUITES)
    prefix = METAL_PREFIX if suite == "metal" else ""
    return sorted((prefix + p.stem for p in _suite_dir(suite).glob("*.glp")), key=_natural_key)


def place(layout: Layout, suite: str, size: int = CANVAS) -> tuple[Layout, tuple[int, int]]:
    """Move a layout onto the canvas by the suite's convention; returns the placed layout and the offset.

    Raises:
        InputError: the layout does not fit on the canvas.
    """
    if suite in ("via", "contact"):
        dx = dy = LITHOBENCH_OFFSET
    else:
        x0, y0, x1, y1 = layout.bbox()
        dx = (size - (x1 - x0)) // 2 - x0
        dy = (size - (y1 - y0)) // 2 - y0
    placed = layout.translated(dx, dy)
    x0, y0, x1, y1 = placed.bbox()
    if x0 < 0 or y0 < 0 or x1 > size or y1 > size:
        extent = f"{layout.name} extent {x1 - x0} x {y1 - y0} nm"
        raise InputError("layout", extent, f"a clip that fits {size} x {size} nm")
    return placed, (dx, dy)


def _resolve_name(name: str) -> tuple[str, str]:
    """(suite, canonical name) for a registry name; ``caseN``/``testN`` mean ``M1_testN``."""
    key = name.strip().removesuffix(".glp")
    alias = re.fullmatch(r"(?:case|test|m1_test)\s*(\d+)", key, flags=re.IGNORECASE)
    if alias:
        key = f"M1_test{int(alias.group(1))}"
    known: dict[str, tuple[str, str]] = {}
    for suite in SUITES if key.lower().startswith(METAL_PREFIX) else ("iccad13", "via", "contact"):
        for clip in list_clips(suite):  # type: ignore[arg-type]
            known[clip.lower()] = (suite, clip)
    if key.lower() in known:
        return known[key.lower()]
    close = difflib.get_close_matches(key, [c for _, c in known.values()], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise InputError(
        "clip",
        name,
        "M1_test1..M1_test10, one of the 10 via1 clips (list_clips('via')), one of the 165 contact clips "
        "such as AND2_X4__0_0 (list_clips('contact')), one of the 271 StdMetal clips such as metal:AND2_X4__0_0 "
        f"(list_clips('metal')), or a .glp/.gds/.oas path{hint}",
    )


def load_clip(
    name_or_path: str, *, layer: int | None = None, datatype: int = 0, cell: str | None = None, size: int = CANVAS,
    scale: float = 1.0,
) -> Clip:
    """Load a clip by registry name or file path and place it on the canvas.

    Args:
        name_or_path: ``M1_test3`` (also ``case3``), ``aes_via1__217_754``, ``AND2_X4__0_0``,
            ``metal:AND2_X4__0_0``, or a path
            to a ``.glp``, ``.gds`` or ``.oas`` file.
        layer, datatype, cell: which shapes to read from a GDS/OASIS file (``layer`` is required there).
        size: canvas side in nm.
        scale: the file's coordinates times this, rounded to the 1 nm grid, before placing (``Layout.scaled``);
            the name gets ``@<scale>``. 1 = as drawn.

    Raises:
        InputError: unknown name (the message lists the accepted names), a missing file, a GDS without
            ``layer`` or with that layer empty.
    """
    candidate = Path(name_or_path)
    looks_like_path = "/" in name_or_path or "\\" in name_or_path or candidate.suffix.lower() in _FILE_SUFFIXES
    looks_like_path = looks_like_path or candidate.is_file()
    if not looks_like_path:
        suite, name = _resolve_name(name_or_path)
        path = _suite_dir(suite) / f"{name.removeprefix(METAL_PREFIX)}.glp"
        name = _scaled_name(name, scale)
        placed, offset = place(_rescale(read_glp(path), scale), suite, size)
        return Clip(name, suite, Layout(placed.polygons, name), path, offset)
    path = candidate.expanduser()
    if not path.is_file():
        raise InputError("clip", name_or_path, "a clip name (see list_clips) or an existing .glp/.gds/.oas path")
    if path.suffix.lower() == ".glp":
        layout = read_glp(path)
    else:
        if layer is None:
            raise InputError("layer", None, "the GDS/OASIS layer number that holds the target shapes")
        layout = read_gds(path, layer, datatype, cell)
    suite = _suite_of_path(path)
    placed, offset = place(_rescale(layout, scale), suite, size)
    return Clip(_scaled_name(path.stem, scale), suite, placed, path, offset)


def _rescale(layout: Layout, scale: float) -> Layout:
    return layout if scale == 1.0 else layout.scaled(scale)


def _scaled_name(name: str, scale: float) -> str:
    return name if scale == 1.0 else f"{name}@{scale:g}"


def _suite_of_path(path: Path) -> str:
    """A file inside a registry folder keeps that suite's placement; anything else is ``custom``."""
    resolved = path.resolve()
    for suite in SUITES:
        try:
            if resolved.parent == _suite_dir(suite).resolve():
                return suite
        except FileNotFoundError:
            continue
    return "custom"
