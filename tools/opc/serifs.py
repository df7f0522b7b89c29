"""Corner treatments of model-based OPC: serifs on outer corners, mousebites in inner corners.

The print of a Manhattan corner is rounded: an outer (convex) corner is cut off and an inner (concave) corner
fills in, because the corner's image lacks the light of the quarter-plane beyond it. Moving whole fragments
cannot square it, since the fragment's EPE is read at its midpoint, away from the vertex. The classic OPC
remedy (Wong, "Resolution Enhancement Techniques in Optical Lithography", 2001, ch. 4; Mack, "Fundamental
Principles of Optical Lithography", 2007, sec. 10.2) is a small square centred on the vertex: added at an
outer corner (a serif), cut out at an inner corner (a mousebite). The recipe sets their sizes;
``tools.opc.spectrum.EdgeMask`` adds them to the mask at the moved vertex, so they travel with the
segments' moves and the EPE feedback corrects around them.

A treatment is ``2 h`` wide (``h`` = the half-size the recipe sets, so ``h >= 10`` nm keeps it at the 20 nm
minimum width); a vertex gets it only where both segments meeting there are at least ``2 h`` long, so two
treatments never overlap each other on one edge. Whether the mask stays rule-clean is checked on the result
(the mask-rule check of every run), not assumed.
"""

from __future__ import annotations

import numpy as np

from tools.common import InputError
from tools.opc.segments import SegmentSet

__all__ = ("SERIF_MIN_NM", "SERIF_MAX_NM", "corner_sizes")

SERIF_MIN_NM = 10
"""Smallest half-size: a 20 nm square, the mask rules' minimum width (``legalize.MaskRules``)."""
SERIF_MAX_NM = 20
"""Largest half-size: a 40 nm square, below the feature sizes of the clips (a serif, not a new shape)."""


def corner_sizes(segs: SegmentSet, serif_nm: int, mousebite_nm: int) -> np.ndarray:
    """(C,) float64 half-size of the treatment at each vertex of ``segs.corners`` (0 = none).

    Args:
        segs: the target's segments.
        serif_nm: half-size of the serif at every convex vertex, 0 (none) or within
            [SERIF_MIN_NM, SERIF_MAX_NM]. In nm.
        mousebite_nm: half-size of the mousebite at every concave vertex, same range. In nm.

    Raises:
        InputError: a size outside 0 or the range.
    """
    for name, value in (("serif_nm", serif_nm), ("mousebite_nm", mousebite_nm)):
        if value != 0 and not SERIF_MIN_NM <= value <= SERIF_MAX_NM:
            raise InputError(name, value, f"0 (none) or an integer within [{SERIF_MIN_NM}, {SERIF_MAX_NM}]")
    c = segs.corners
    if not c.size:
        return np.zeros(0)
    half = np.where(c[:, 4] > 0, float(serif_nm), float(mousebite_nm))
    room = np.minimum(segs.length[c[:, 0]], segs.length[c[:, 1]])
    return np.where(room >= 2 * half, half, 0.0)
