"""Layout geometry and file formats: ``.glp`` clips, GDSII/OASIS through gdstk, rectangle decompositions.

Units are nm throughout (the ``.glp`` header ``EQUIV 1 1000 MICRON`` makes 1 unit = 1 nm); a vertex is
``(x, y)`` with x = image column and y = image row, no y-flip (shared/data/iccad13/README.md).
Every polygon is rectilinear (Manhattan): the clips are, and the rasteriser and the closed-form mask
spectrum rely on it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tools.common import InputError
from tools.litho._runs import row_runs

if TYPE_CHECKING:
    import gdstk

__all__ = (
    "Layout",
    "read_glp",
    "read_gds",
    "write_gds",
    "polygon_to_rects",
    "mask_to_rects",
    "shapes_to_rects",
)


@dataclass
class Layout:
    """A set of rectilinear polygons in nm.

    Attributes:
        polygons: vertex arrays, each ``(n, 2)`` int64 of ``(x, y)``, implicitly closed.
        name: where it came from (clip name or file stem).
    """

    polygons: list[np.ndarray] = field(default_factory=list)
    name: str = ""

    def bbox(self) -> tuple[int, int, int, int]:
        """``(xmin, ymin, xmax, ymax)`` over all vertices."""
        if not self.polygons:
            raise InputError("layout", self.name or "<empty>", "a layout with at least one polygon")
        pts = np.concatenate(self.polygons)
        (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
        return int(x0), int(y0), int(x1), int(y1)

    def translated(self, dx: int, dy: int) -> Layout:
        """A copy moved by ``(dx, dy)`` nm."""
        shift = np.array([dx, dy], dtype=np.int64)
        return Layout([p + shift for p in self.polygons], self.name)

    def scaled(self, factor: float) -> Layout:
        """A copy with every coordinate multiplied by ``factor`` and rounded to the 1 nm grid (a smaller or larger
        look-alike of the same design, e.g. the training-data augmentation of ``chipcrew train camo --scales``).

        Raises:
            InputError: a factor outside 0.5..2, or one that collapses an edge to zero length.
        """
        if not 0.5 <= factor <= 2.0:
            raise InputError("scale", factor, "a factor 0.5..2 (1 = the file's own size)")
        scaled = [np.rint(p * factor).astype(np.int64) for p in self.polygons]
        if any(np.any(np.all(q == np.roll(q, -1, axis=0), axis=1)) for q in scaled):
            raise InputError("scale", factor, f"a factor that keeps every edge of {self.name or 'the layout'} >= 1 nm")
        return Layout(scaled, self.name)

    def rects(self) -> np.ndarray:
        """All polygons as half-open rectangles ``(m, 4)`` ``[x0, y0, x1, y1]``."""
        return shapes_to_rects(self)


def read_glp(path: str | os.PathLike[str]) -> Layout:
    """Read a ``.glp`` clip: ``RECT N <layer> x y w h`` and ``PGON N <layer> x1 y1 ... xn yn`` lines.

    A RECT becomes the vertices (x,y),(x,y+h),(x+w,y+h),(x+w,y), as in the reference parsers
    (OpenILT ``pycommon/glp.py``); every other line (header, CELL, ENDMSG) is skipped.

    Raises:
        InputError: the file does not exist or holds no RECT/PGON line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("path", str(path), "an existing .glp file")
    polygons = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        tokens = line.split()
        if len(tokens) < 7 or tokens[0] not in ("RECT", "PGON"):
            continue
        try:
            values = [int(t) for t in tokens[3:]]
        except ValueError as err:
            raise InputError(f"{path.name}:{lineno}", line.strip(), "integer coordinates in nm") from err
        if tokens[0] == "RECT":
            x, y, w, h = values[:4]
            poly = np.array([[x, y], [x, y + h], [x + w, y + h], [x + w, y]], dtype=np.int64)
        else:
            if len(values) % 2 or len(values) < 8:
                raise InputError(f"{path.name}:{lineno}", line.strip(), "a PGON with at least 4 (x, y) pairs")
            poly = np.array(values, dtype=np.int64).reshape(-1, 2)
        _check_rectilinear(poly, f"{path.name}:{lineno}")
        polygons.append(poly)
    if not polygons:
        raise InputError("path", str(path), "a .glp file with RECT or PGON lines")
    return Layout(polygons, path.stem)


def read_gds(path: str | os.PathLike[str], layer: int, datatype: int = 0, cell: str | None = None) -> Layout:
    """Read the polygons of one layer/datatype from a GDSII (``.gds``) or OASIS (``.oas``) file, in nm.

    References are flattened. With ``cell=None`` the file must have exactly one top-level cell.

    Raises:
        InputError: missing or unreadable file, unknown cell, an empty layer (the message lists the layers
            present) or a non-Manhattan polygon.
    """
    import gdstk

    path = Path(path)
    if not path.is_file():
        raise InputError("path", str(path), "an existing .gds or .oas file")
    # unit=1e-9 asks gdstk to convert the geometry to 1 user unit = 1 nm on import.
    oasis = path.suffix.lower() in (".oas", ".oasis")
    try:
        lib = gdstk.read_oas(str(path), unit=1e-9) if oasis else gdstk.read_gds(str(path), unit=1e-9)
    except (OSError, RuntimeError, ValueError) as exc:  # gdstk's only word on a damaged stream
        raise InputError("path", str(path), f"a readable {'OASIS' if oasis else 'GDSII'} file (the reader says: {exc})") from exc
    if cell is None:
        tops = lib.top_level()
        if len(tops) != 1:
            raise InputError("cell", None, sorted(c.name for c in tops) or "a file with at least one cell")
        chosen = tops[0]
    else:
        by_name = {c.name: c for c in lib.cells}
        if cell not in by_name:
            raise InputError("cell", cell, sorted(by_name))
        chosen = by_name[cell]
    polys = chosen.get_polygons(layer=layer, datatype=datatype)
    if not polys:
        present = sorted(f"{lay}/{dt}" for lay, dt in _layers(chosen))
        raise InputError("layer", f"{layer}/{datatype}", present or "a cell with polygons (this one is empty)")
    polygons = []
    for i, poly in enumerate(polys):
        pts = np.rint(poly.points).astype(np.int64)
        _check_rectilinear(pts, f"{path.name}: polygon {i} on {layer}/{datatype}")
        polygons.append(pts)
    return Layout(polygons, path.stem)


def _layers(cell: gdstk.Cell) -> set[tuple[int, int]]:
    """(layer, datatype) pairs holding polygons in ``cell``, references flattened."""
    return {(p.layer, p.datatype) for p in cell.get_polygons()}


def write_gds(
    path: str | os.PathLike[str],
    shapes: Layout | Sequence[np.ndarray] | np.ndarray,
    layer: int = 0,
    datatype: int = 0,
    cell: str = "CHIPCREW_MASK",
    offset: tuple[int, int] = (0, 0),
) -> Path:
    """Write polygons, or rectangles ``(m, 4)`` ``[x0, y0, x1, y1]``, to GDSII (or OASIS for ``.oas``).

    Coordinates are nm; ``offset`` is subtracted first, so a mask optimised on the canvas can be written
    back in the coordinates of the design it came from (pass the clip's ``offset``). The library unit is
    1 um with 1 nm precision, the usual GDS convention.
    """
    import gdstk

    path = Path(path)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    top = lib.new_cell(cell)
    shift = np.array(offset, dtype=np.float64)
    if isinstance(shapes, np.ndarray) and shapes.ndim == 2 and shapes.shape[1] == 4:
        for x0, y0, x1, y1 in (shapes - np.tile(shift, 2)) / 1000.0:
            top.add(gdstk.rectangle((x0, y0), (x1, y1), layer=layer, datatype=datatype))
    else:
        polygons = shapes.polygons if isinstance(shapes, Layout) else shapes
        for poly in polygons:
            top.add(gdstk.Polygon((np.asarray(poly) - shift) / 1000.0, layer=layer, datatype=datatype))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".oas", ".oasis"):
        lib.write_oas(str(path))
    else:
        lib.write_gds(str(path))
    return path


def _check_rectilinear(poly: np.ndarray, where: str) -> None:
    """Every edge (closing one included) must be horizontal or vertical."""
    nxt = np.roll(poly, -1, axis=0)
    if not np.all((poly[:, 0] == nxt[:, 0]) | (poly[:, 1] == nxt[:, 1])):
        raise InputError(where, poly.tolist()[:6], "rectilinear (Manhattan) polygons")


def polygon_to_rects(poly: np.ndarray) -> np.ndarray:
    """Decompose a rectilinear polygon into disjoint half-open rectangles, deterministically.

    Horizontal slabs between consecutive vertex y's; inside each slab the even-odd rule over the vertical
    edges gives the x-intervals; intervals repeated in adjacent slabs are merged vertically.

    Args:
        poly: ``(n, 2)`` integer vertices ``(x, y)``, implicitly closed.

    Returns:
        ``(m, 4)`` int64 ``[x0, y0, x1, y1]`` sorted by ``(y0, x0)``; their areas sum to the polygon's.
    """
    poly = np.asarray(poly, dtype=np.int64)
    _check_rectilinear(poly, "poly")
    nxt = np.roll(poly, -1, axis=0)
    vertical = (poly[:, 0] == nxt[:, 0]) & (poly[:, 1] != nxt[:, 1])
    ex = poly[vertical, 0]
    elo = np.minimum(poly[vertical, 1], nxt[vertical, 1])
    ehi = np.maximum(poly[vertical, 1], nxt[vertical, 1])
    ys = np.unique(poly[:, 1])
    open_rects: dict[tuple[int, int], int] = {}  # (x0, x1) -> y0 of the rectangle still growing
    done: list[tuple[int, int, int, int]] = []
    for y0, y1 in zip(ys[:-1], ys[1:]):
        xs = np.sort(ex[(elo <= y0) & (ehi >= y1)])
        intervals = {(int(a), int(b)) for a, b in zip(xs[0::2], xs[1::2]) if a < b}
        for key in [k for k in open_rects if k not in intervals]:
            done.append((key[0], open_rects.pop(key), key[1], int(y0)))
        for key in intervals:
            open_rects.setdefault(key, int(y0))
    for key, start in open_rects.items():
        done.append((key[0], start, key[1], int(ys[-1])))
    rects = np.array(done, dtype=np.int64).reshape(-1, 4)
    return rects[np.lexsort((rects[:, 0], rects[:, 1]))]


def shapes_to_rects(shapes: Layout | Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Rectangles ``(m, 4)`` from a Layout, a list of polygons, or rectangles passed through."""
    if isinstance(shapes, np.ndarray) and shapes.ndim == 2 and shapes.shape[1] == 4:
        return shapes.astype(np.int64)
    polygons = shapes.polygons if isinstance(shapes, Layout) else list(shapes)
    if not polygons:
        return np.zeros((0, 4), dtype=np.int64)
    return np.concatenate([polygon_to_rects(p) for p in polygons])


def mask_to_rects(mask: np.ndarray) -> np.ndarray:
    """Deterministic rectangle partition of a binary pixel mask (the mask-writer's shots).

    Each row is cut into maximal runs of ones; runs with the same ``[x0, x1)`` in consecutive rows are
    stacked into one rectangle. The rectangles are disjoint and cover the mask exactly.

    Args:
        mask: ``(H, W)`` array; pixels >= 0.5 are "on".

    Returns:
        ``(m, 4)`` int64 ``[x0, y0, x1, y1]`` (x = column, y = row, half-open), sorted by ``(y0, x0)``.
    """
    on = np.asarray(mask) >= 0.5
    if on.ndim != 2:
        raise InputError("mask", f"shape {on.shape}", "a 2-D array")
    rows, starts, ends = row_runs(on)
    if rows.size == 0:
        return np.zeros((0, 4), dtype=np.int64)
    order = np.lexsort((rows, ends, starts))
    r, s, e = rows[order], starts[order], ends[order]
    new = np.ones(r.size, dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (e[1:] != e[:-1]) | (r[1:] != r[:-1] + 1)
    ident = np.cumsum(new) - 1
    y0 = r[new]
    y1 = np.zeros(ident[-1] + 1, dtype=np.int64)
    np.maximum.at(y1, ident, r + 1)
    rects = np.stack([s[new], y0, e[new], y1], axis=1).astype(np.int64)
    return rects[np.lexsort((rects[:, 0], rects[:, 1]))]
