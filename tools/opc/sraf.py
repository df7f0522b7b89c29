"""Rule-based sub-resolution assist features (SRAFs): scattering bars beside isolated edges.

Rule-based SRAF insertion (Mack, "Fundamental Principles of Optical Lithography", 2007, sec. 10.3; Wong,
"Resolution Enhancement Techniques in Optical Lithography", 2001, ch. 4): a bar narrower than the resolution
limit, placed parallel to an edge at a fixed distance, makes an isolated edge image like a dense one, which
steepens its image slope and so narrows its process-variation band; the bar itself must not print. The
recipe sets the two numbers an SRAF rule deck sets, the bar's distance from the target edge and its width.

Placement, per segment facing a gap (``tools.opc.topology``'s space ahead of it):

* gap >= 2 * (distance + width) + min_space: one bar ``distance`` out from this edge (the facing edge gets
  its own);
* otherwise, if gap >= 2 * distance + width: one bar centred in the gap;
* otherwise no bar.

The union of the bars is then cleaned so the mask stays rule-clean: every bar pixel closer than
``distance`` to the target is removed (bars of other edges that turn a corner), and what is left is opened
with a width x width square (no sliver narrower than the bar); where two bars come closer than the space
rule, the smaller one is dropped. :func:`outward_cap` bounds the main feature's outward moves so that they keep ``min_space`` to the
bars. Whether a bar prints is measured on the result (:func:`printed_pixels`), not assumed.
"""

from __future__ import annotations

import numpy as np

from tools.common import InputError
from tools.opc.segments import SegmentSet

__all__ = ("SRAF_MIN_WIDTH_NM", "place_srafs", "outward_cap", "printed_pixels")

SRAF_MIN_WIDTH_NM = 20
"""Narrowest bar: the mask rules' minimum width (``legalize.MaskRules.min_width_nm``)."""


def place_srafs(
    segs: SegmentSet, space_nm: np.ndarray, target: np.ndarray, distance_nm: int, width_nm: int, min_space_nm: int = 20
) -> np.ndarray:
    """The (N, N) bool raster of the assist bars for the segments of a target (module docstring for the rules).

    Args:
        segs: the target's segments.
        space_nm: (S,) space ahead of each segment (``SegmentTopology.space_nm``). In nm.
        target: (N, N) {0, 1} target raster (bars keep ``distance_nm`` from every target pixel).
        distance_nm: bar distance from the target edge, > ``min_space_nm``. In nm.
        width_nm: bar width, >= ``SRAF_MIN_WIDTH_NM``. In nm.
        min_space_nm: mask rule space between a bar and another bar. In nm.

    Raises:
        InputError: a width below the mask rule or a distance not above the space rule.
    """
    import cv2

    if width_nm < SRAF_MIN_WIDTH_NM:
        raise InputError("sraf_width_nm", width_nm, f"an integer >= {SRAF_MIN_WIDTH_NM} (the mask rules' min width)")
    if distance_nm <= min_space_nm:
        raise InputError("sraf_distance_nm", distance_nm, f"an integer > {min_space_nm} (the mask rules' min space)")
    n = target.shape[0]
    bars = np.zeros((n, n), dtype=np.uint8)
    space = np.asarray(space_nm, dtype=np.int64)
    own = space >= 2 * (distance_nm + width_nm) + min_space_nm
    mid = ~own & (space >= 2 * distance_nm + width_nm)
    near = segs.pos + segs.normal * np.where(own, distance_nm, (space - width_nm) // 2)
    far = near + segs.normal * width_nm
    a, b = np.minimum(near, far), np.maximum(near, far)
    for s in np.flatnonzero(own | mid):
        lo, hi = int(segs.lo[s]), int(segs.hi[s])
        ia, ib = max(int(a[s]), 0), min(int(b[s]), n)
        if segs.axis[s] == 0:
            bars[lo:hi, ia:ib] = 1
        else:
            bars[ia:ib, lo:hi] = 1
    if not bars.any():
        return bars.astype(bool)
    keep_out = cv2.dilate((target >= 0.5).astype(np.uint8), np.ones((2 * distance_nm - 1, 2 * distance_nm - 1), np.uint8))
    bars &= 1 - keep_out
    square = np.ones((width_nm, width_nm), np.uint8)  # opening: erode to the square's corner, dilate back from it
    bars = cv2.dilate(cv2.erode(bars, square, anchor=(0, 0)), square, anchor=(width_nm - 1, width_nm - 1))
    return _spaced(bars, min_space_nm)


def _spaced(bars: np.ndarray, min_space_nm: int) -> np.ndarray:
    """Keep bars greedily, largest first, dropping any that would come closer than ``min_space_nm`` to a kept one."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(bars, connectivity=8)
    kept = np.zeros(bars.shape, dtype=bool)
    grow = np.ones((2 * min_space_nm - 1, 2 * min_space_nm - 1), np.uint8)
    n = bars.shape[0]
    for k in sorted(range(1, count), key=lambda k: (-stats[k, cv2.CC_STAT_AREA], k)):
        x, y, w, h = (int(stats[k, i]) for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
        y0, y1, x0, x1 = max(y - min_space_nm, 0), min(y + h + min_space_nm, n), max(x - min_space_nm, 0), min(x + w + min_space_nm, n)
        mine = (labels[y0:y1, x0:x1] == k).astype(np.uint8)
        if not (cv2.dilate(mine, grow).astype(bool) & kept[y0:y1, x0:x1]).any():
            kept[y0:y1, x0:x1] |= mine.astype(bool)
    return kept


def outward_cap(segs: SegmentSet, space_nm: np.ndarray, distance_nm: int, width_nm: int, min_space_nm: int = 20) -> np.ndarray:
    """(S,) int64 largest outward move per segment that keeps ``min_space_nm`` to any bar it faces.

    A segment facing a gap wide enough for a bar (the rules of :func:`place_srafs`) may move out by at most
    ``distance - min_space`` (own bar) or the centred bar's distance minus ``min_space``; others are unbounded
    here (``move_bounds`` bounds them). In nm.
    """
    space = np.asarray(space_nm, dtype=np.int64)
    own = space >= 2 * (distance_nm + width_nm) + min_space_nm
    mid = ~own & (space >= 2 * distance_nm + width_nm)
    free = np.iinfo(np.int64).max // 4
    return np.where(own, distance_nm - min_space_nm, np.where(mid, (space - width_nm) // 2 - min_space_nm, free))


def printed_pixels(print_image: np.ndarray, bars: np.ndarray) -> int:
    """Pixels of a (bool) print inside the bars: an SRAF that prints at this corner gives a positive count."""
    return int(np.count_nonzero(print_image & bars))
