"""Per-segment topology of the target: geometry class, width, space, corner distance, isolated/dense.

A segment's correct OPC move depends on where it sits in the pattern: a line end pulls back and wants to be
pushed out (hammerhead), a convex corner rounds inward, a concave corner fills in, a long run in a dense
array barely moves. Learned and rule-based OPC both condition on this context, so it is computed once here
from the *target* geometry (it does not change while the mask moves) over the segments of
``tools.opc.segments`` and shared by every method that needs it (CAMO's environment, the recipe search).

Classes (``TOPO_*``), first match wins:

* ``via``: an edge of a 4-vertex polygon whose sides are all at most ``via_max_nm`` (a via or contact);
* ``line_end``: a whole short edge between two convex vertices (``segments.KIND_LINE_END``);
* ``jog``: a whole edge between a convex and a concave vertex (a step in an outline);
* ``convex``: a piece touching a convex vertex (an outer corner);
* ``concave``: a piece touching a concave vertex only (an inner corner, or the bottom of a notch);
* ``run``: a piece inside an edge, away from both vertices.

Distances (nm, all capped so that wide-open space reads the same everywhere):

* width: to the nearest facing edge *behind* the segment (opposite normal, spans overlapping), i.e. across
  the feature (``legalize.facing_gaps``, the pairing the move bounds use for the width slack);
* space: to the nearest facing edge *ahead* of the segment (spans overlapping), i.e. across the gap to the
  next feature or to another part of the same polygon;
* corner: Euclidean distance from the segment's midpoint to the nearest polygon vertex of any polygon;
* dense: space below ``iso_space_nm``. The default 300 nm is about 2 lambda/NA of the ICCAD 2013 optics
  (193 nm, NA 1.35, i.e. ~143 nm): beyond it a neighbour's edge hardly changes the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.opc.legalize import facing_gaps
from tools.opc.segments import KIND_LINE_END, SegmentSet

__all__ = (
    "TOPO_RUN",
    "TOPO_LINE_END",
    "TOPO_CONVEX",
    "TOPO_CONCAVE",
    "TOPO_JOG",
    "TOPO_VIA",
    "TOPO_NAMES",
    "FEATURE_NAMES",
    "TopologyConfig",
    "SegmentTopology",
    "segment_topology",
)

TOPO_RUN = 0
TOPO_LINE_END = 1
TOPO_CONVEX = 2
TOPO_CONCAVE = 3
TOPO_JOG = 4
TOPO_VIA = 5
TOPO_NAMES: tuple[str, ...] = ("run", "line_end", "convex", "concave", "jog", "via")
"""Class names, indexed by the ``TOPO_*`` codes."""
FEATURE_NAMES: tuple[str, ...] = (
    *(f"is_{name}" for name in TOPO_NAMES),
    "width",
    "space",
    "corner",
    "length",
    "dense",
)
"""Columns of :meth:`SegmentTopology.features`: a one-hot class, then the capped distances divided by their
caps (width, space, corner), the segment length divided by ``length_ref_nm`` and the dense flag."""


@dataclass(frozen=True)
class TopologyConfig:
    """Caps and thresholds of the topology features.

    Attributes:
        via_max_nm: largest side of a rectangle that counts as a via/contact. In nm.
        width_cap_nm: widths beyond this read as this. In nm.
        space_cap_nm: spaces beyond this (or no facing edge at all) read as this. In nm.
        corner_cap_nm: corner distances beyond this read as this. In nm.
        iso_space_nm: a segment with at least this much space is isolated, below it dense. In nm.
        length_ref_nm: segment lengths are divided by this in the feature vector (the metal fragment length).
    """

    via_max_nm: int = 120
    width_cap_nm: int = 500
    space_cap_nm: int = 500
    corner_cap_nm: int = 200
    iso_space_nm: int = 300
    length_ref_nm: int = 60


@dataclass(frozen=True)
class SegmentTopology:
    """Topology of every segment of a :class:`SegmentSet`.

    Attributes:
        cls: (S,) int8 ``TOPO_*`` class.
        width_nm: (S,) int64 width across the feature, capped.
        space_nm: (S,) int64 space to the next feature, capped.
        corner_nm: (S,) float64 distance from the midpoint to the nearest vertex, capped.
        dense: (S,) bool, space below ``iso_space_nm``.
        length_nm: (S,) int64 segment length.
        config: the caps used.
    """

    cls: np.ndarray
    width_nm: np.ndarray
    space_nm: np.ndarray
    corner_nm: np.ndarray
    dense: np.ndarray
    length_nm: np.ndarray
    config: TopologyConfig

    def __len__(self) -> int:
        return int(self.cls.shape[0])

    def features(self) -> np.ndarray:
        """(S, len(FEATURE_NAMES)) float32 feature rows, every column within [0, 1] except ``length``."""
        c = self.config
        onehot = np.eye(len(TOPO_NAMES), dtype=np.float32)[self.cls.astype(np.int64)]
        scalars = np.stack(
            [
                self.width_nm / c.width_cap_nm,
                self.space_nm / c.space_cap_nm,
                self.corner_nm / c.corner_cap_nm,
                self.length_nm / c.length_ref_nm,
                self.dense.astype(np.float64),
            ],
            axis=1,
        ).astype(np.float32)
        return np.concatenate([onehot, scalars], axis=1)


def segment_topology(segs: SegmentSet, config: TopologyConfig | None = None) -> SegmentTopology:
    """Classify every segment and measure its width, space and corner distance (module docstring).

    Args:
        segs: the segments of the target (``tools.opc.segments.fragment``).
        config: caps and thresholds; None = defaults.

    Returns:
        The per-segment topology (arrays aligned with ``segs``).
    """
    c = config or TopologyConfig()
    n = len(segs)
    corners = segs.corners
    touches_convex = _touches(segs, +1)
    touches_concave = _touches(segs, -1)
    cls = np.full(n, TOPO_RUN, dtype=np.int8)
    cls[touches_concave] = TOPO_CONCAVE
    cls[touches_convex] = TOPO_CONVEX
    cls[touches_convex & touches_concave] = TOPO_JOG
    cls[segs.kind == KIND_LINE_END] = TOPO_LINE_END
    cls[_via_polygons(segs, c.via_max_nm)[segs.polygon]] = TOPO_VIA

    space_gap, width_gap = facing_gaps(segs)
    width = np.minimum(width_gap, c.width_cap_nm)
    space = np.minimum(space_gap, c.space_cap_nm)

    if corners.size:
        mid = segs.check_points()  # (S, 2)
        d = np.hypot(mid[:, None, 0] - corners[None, :, 2], mid[:, None, 1] - corners[None, :, 3]).min(axis=1)
        corner = np.minimum(d, float(c.corner_cap_nm))
    else:
        corner = np.full(n, float(c.corner_cap_nm))
    return SegmentTopology(
        cls=cls,
        width_nm=width,
        space_nm=space,
        corner_nm=corner,
        dense=space < c.iso_space_nm,
        length_nm=segs.length.astype(np.int64),
        config=c,
    )


def _touches(segs: SegmentSet, convex: int) -> np.ndarray:
    """(S,) bool: the segment starts or ends at a vertex with that ``convex`` flag (+1 convex, -1 concave)."""
    flag = np.append(segs.corners[:, 4], 0)  # index -1 (an interior cut) reads the appended 0
    return (flag[segs.start_corner] == convex) | (flag[segs.end_corner] == convex)


def _via_polygons(segs: SegmentSet, via_max_nm: int) -> np.ndarray:
    """(P,) bool: polygon p is a rectangle with both sides at most ``via_max_nm``."""
    n_poly = len(segs.loops)
    if n_poly == 0:
        return np.zeros(0, dtype=bool)
    vertices = np.bincount(segs.polygon[segs.corners[:, 0]], minlength=n_poly)
    # The polygon's bounding box is the union of its segments' spans.
    x_lo = np.full(n_poly, np.iinfo(np.int64).max)
    x_hi = np.full(n_poly, np.iinfo(np.int64).min)
    y_lo, y_hi = x_lo.copy(), x_hi.copy()
    vert, horiz = segs.axis == 0, segs.axis == 1
    np.minimum.at(y_lo, segs.polygon[vert], segs.lo[vert])
    np.maximum.at(y_hi, segs.polygon[vert], segs.hi[vert])
    np.minimum.at(x_lo, segs.polygon[horiz], segs.lo[horiz])
    np.maximum.at(x_hi, segs.polygon[horiz], segs.hi[horiz])
    return (vertices == 4) & (x_hi - x_lo <= via_max_nm) & (y_hi - y_lo <= via_max_nm)
