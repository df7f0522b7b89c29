"""Rasterisation of rectilinear layouts onto the 1 nm pixel grid, in the two conventions in use.

* ``exact``: pixel ``(r, c)`` is on iff its unit square ``[c, c+1) x [r, r+1)`` lies inside the polygon,
  so the pixel count equals the polygon area (the Neural-ILT / A2-ILT ``ibm_opc_test`` targets).
* ``inclusive``: pixel ``(r, c)`` is on iff the lattice point ``(x=c, y=r)`` lies in the *closed* polygon,
  which is what ``cv2.fillPoly`` produces for integer vertices (OpenILT ``pycommon/glp.py``, LithoBench,
  DiffOPC); the right and bottom boundary rows/columns are filled too (ICCAD13 case 1: 218902 px against
  an area of 215344).

L2 depends on the convention by thousands of pixels, so every number we report names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from tools.common import InputError
from tools.litho.layout import Layout, shapes_to_rects

__all__ = ("Convention", "CONVENTIONS", "rasterize")

Convention = Literal["exact", "inclusive"]
CONVENTIONS: tuple[str, ...] = ("exact", "inclusive")


def rasterize(
    shapes: Layout | Sequence[np.ndarray] | np.ndarray,
    size: int = 2048,
    convention: Convention = "exact",
) -> np.ndarray:
    """Fill polygons (or rectangles ``(m, 4)`` ``[x0, y0, x1, y1]``) on a ``size x size`` canvas.

    Args:
        shapes: a placed Layout, a list of ``(n, 2)`` vertex arrays, or half-open rectangles.
        size: canvas side in pixels (1 px = 1 nm).
        convention: ``"exact"`` (pixel count = area) or ``"inclusive"`` (cv2.fillPoly-style).

    Returns:
        ``(size, size)`` float32 array in {0, 1}, indexed ``[row = y, col = x]``.

    Raises:
        InputError: unknown convention, or a shape outside the canvas.
    """
    if convention not in CONVENTIONS:
        raise InputError("convention", convention, CONVENTIONS)
    rects = shapes_to_rects(shapes)
    out = np.zeros((size, size), dtype=np.float32)
    if rects.size == 0:
        return out
    if rects[:, :2].min() < 0 or rects[:, 2:].max() > size:
        raise InputError(
            "shapes",
            f"bbox {rects[:, :2].min(0).tolist()}..{rects[:, 2:].max(0).tolist()}",
            f"shapes inside the 0..{size} nm canvas (place the clip on the canvas first)",
        )
    grow = 1 if convention == "inclusive" else 0
    for x0, y0, x1, y1 in rects:
        out[y0 : y1 + grow, x0 : x1 + grow] = 1.0
    return out
