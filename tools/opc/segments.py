"""Edge fragmentation for edge-based OPC: target polygon edges cut into movable segments.

DiffOPC (Chen et al., "DiffOPC: differentiable edge-based OPC", ICCAD 2024) cuts every target edge into
segments of a fixed length (60 nm in the paper's released configuration, ``SEG_LENGTH: 60``), marks the pieces
that touch a polygon vertex as corner pieces, and moves each segment along its outward normal. This module
does the cutting and keeps the bookkeeping that the rest of the package needs:

* per segment: which axis it moves along, the edge coordinate, the span along the edge, the outward normal
  sign and a kind (run, corner, line end);
* per polygon vertex: the pair of segments meeting there, so that the mask spectrum can add the corner
  rectangle exactly (``tools.opc.spectrum``) and the moved polygon can be rebuilt for GDS output.

Coordinates are nm = pixels of the 2048 canvas; ``x`` is the column, ``y`` the row (no y-flip), an edge at
``x = e`` lies between pixel columns ``e - 1`` and ``e``, and a span ``[lo, hi)`` is half-open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.common import InputError

__all__ = ("SegmentSet", "fragment", "moved_polygons", "KIND_RUN", "KIND_CORNER", "KIND_LINE_END")

KIND_RUN = 0
"""A segment inside an edge, away from both vertices."""
KIND_CORNER = 1
"""A segment touching one polygon vertex."""
KIND_LINE_END = 2
"""A whole short edge between two convex vertices (the end of a line), moved as one piece."""


@dataclass(frozen=True)
class SegmentSet:
    """Movable segments of a set of rectilinear polygons, flattened over polygons.

    Attributes:
        axis: (S,) int8, 0 = vertical edge moving along x, 1 = horizontal edge moving along y.
        pos: (S,) int64, the edge coordinate (x for axis 0, y for axis 1). In nm.
        lo: (S,) int64, span start along the edge (y for axis 0, x for axis 1), inclusive. In nm.
        hi: (S,) int64, span end, exclusive. In nm.
        normal: (S,) int8, +1 or -1: the outward normal points to increasing or decreasing ``pos``.
        kind: (S,) int8, KIND_RUN / KIND_CORNER / KIND_LINE_END.
        polygon: (S,) int64, index of the polygon the segment belongs to.
        start_corner: (S,) int64, index into ``corners`` of the vertex at the segment's start in traversal
            order, or -1 when the start is an interior cut of the edge.
        end_corner: (S,) int64, same for the segment's end.
        start: (S,) int64, traversal start coordinate along the edge (``lo`` or ``hi``). In nm.
        end: (S,) int64, traversal end coordinate along the edge. In nm.
        corners: (C, 5) int64 rows ``[vertical segment, horizontal segment, x, y, convex]`` with convex = +1 for
            a convex vertex and -1 for a concave one.
        loops: per polygon, the segment indices in traversal order.
    """

    axis: np.ndarray
    pos: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    normal: np.ndarray
    kind: np.ndarray
    polygon: np.ndarray
    start_corner: np.ndarray
    end_corner: np.ndarray
    start: np.ndarray
    end: np.ndarray
    corners: np.ndarray
    loops: tuple[np.ndarray, ...]

    def __len__(self) -> int:
        return int(self.pos.shape[0])

    @property
    def length(self) -> np.ndarray:
        """(S,) int64 segment lengths in nm."""
        return self.hi - self.lo

    def check_points(self) -> np.ndarray:
        """(S, 2) float64 segment midpoints on the target edge, as (x, y) in nm."""
        mid = (self.lo + self.hi) / 2.0
        return np.where(self.axis[:, None] == 0, np.stack([self.pos, mid], 1), np.stack([mid, self.pos], 1))

    def normals(self) -> np.ndarray:
        """(S, 2) float64 outward unit normals as (x, y)."""
        n = self.normal.astype(np.float64)
        return np.where(self.axis[:, None] == 0, np.stack([n, 0 * n], 1), np.stack([0 * n, n], 1))


def fragment(polygons: list[np.ndarray], segment_length_nm: int = 60, min_piece_nm: int = 30) -> SegmentSet:
    """Cut every edge of rectilinear polygons into segments of at most ``segment_length_nm``.

    Rules (DiffOPC's fragmentation, simplified): an edge of length E is cut into ``ceil(E / segment_length_nm)``
    nearly equal pieces, the two end pieces being corner pieces; an edge shorter than ``2 * min_piece_nm`` stays
    one piece (cutting it would make pieces narrower than a mask rule allows); an edge between two convex
    vertices no longer than ``2 * segment_length_nm`` is a line end and stays one piece (standard model-based
    OPC practice: the line end moves as a unit, its neighbouring corner pieces form the hammerhead).

    Args:
        polygons: list of (n, 2) integer vertex arrays (x, y), implicitly closed, rectilinear, any orientation.
        segment_length_nm: target segment length, >= 2. In nm.
        min_piece_nm: shortest piece produced by cutting an edge. In nm.

    Returns:
        The segments, corners and per-polygon traversal order.

    Raises:
        InputError: a polygon is not rectilinear or has fewer than 4 vertices after cleaning.
    """
    if segment_length_nm < 2:
        raise InputError("segment_length_nm", segment_length_nm, "an integer >= 2")
    cols: dict[str, list[int]] = {k: [] for k in ("axis", "pos", "lo", "hi", "normal", "kind", "polygon", "start", "end")}
    start_corner: list[int] = []
    end_corner: list[int] = []
    corners: list[list[int]] = []
    loops: list[np.ndarray] = []
    for p_index, raw in enumerate(polygons):
        verts = _clean(np.asarray(raw, dtype=np.int64), p_index)
        orient = 1 if _signed_area2(verts) > 0 else -1
        n = len(verts)
        first_corner = len(corners)
        loop: list[int] = []
        first_seg_of_edge: list[int] = []
        last_seg_of_edge: list[int] = []
        for k in range(n):
            p, q = verts[k], verts[(k + 1) % n]
            prev_dir = np.sign(p - verts[k - 1])
            this_dir = np.sign(q - p)
            next_dir = np.sign(verts[(k + 2) % n] - q)
            convex_start = _cross(prev_dir, this_dir) * orient > 0
            convex_end = _cross(this_dir, next_dir) * orient > 0
            vertical = p[0] == q[0]
            axis = 0 if vertical else 1
            along = 1 if vertical else 0
            t0, t1 = int(p[along]), int(q[along])
            step = 1 if t1 > t0 else -1
            # Outward normal of a counter-clockwise loop is the travel direction turned by -90 degrees.
            normal = int(step * orient) if vertical else int(-step * orient)
            length = abs(t1 - t0)
            line_end = convex_start and convex_end and length <= 2 * segment_length_nm
            pieces = 1 if (length < 2 * min_piece_nm or line_end) else max(2, -(-length // segment_length_nm))
            cuts = [t0 + step * round(i * length / pieces) for i in range(pieces + 1)]
            first_seg_of_edge.append(len(cols["pos"]))
            for i in range(pieces):
                a, b = cuts[i], cuts[i + 1]
                if pieces == 1:
                    kind = KIND_LINE_END if (convex_start and convex_end) else KIND_CORNER
                else:
                    kind = KIND_CORNER if i in (0, pieces - 1) else KIND_RUN
                loop.append(len(cols["pos"]))
                for key, val in (("axis", axis), ("pos", int(p[axis])), ("lo", min(a, b)), ("hi", max(a, b)),
                                 ("normal", normal), ("kind", kind), ("polygon", p_index), ("start", a), ("end", b)):
                    cols[key].append(val)
                start_corner.append(first_corner + (k - 1) % n if i == 0 else -1)
                end_corner.append(first_corner + k if i == pieces - 1 else -1)
            last_seg_of_edge.append(len(cols["pos"]) - 1)
        for k in range(n):  # corner k sits at the end of edge k / start of edge k+1
            a_seg, b_seg = last_seg_of_edge[k], first_seg_of_edge[(k + 1) % n]
            v_seg, h_seg = (a_seg, b_seg) if cols["axis"][a_seg] == 0 else (b_seg, a_seg)
            vx, vy = verts[(k + 1) % n]
            this_dir = np.sign(verts[(k + 1) % n] - verts[k])
            next_dir = np.sign(verts[(k + 2) % n] - verts[(k + 1) % n])
            convex = 1 if _cross(this_dir, next_dir) * orient > 0 else -1
            corners.append([v_seg, h_seg, int(vx), int(vy), convex])
        loops.append(np.asarray(loop, dtype=np.int64))
    as_i64 = {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}
    return SegmentSet(
        axis=as_i64["axis"].astype(np.int8),
        pos=as_i64["pos"],
        lo=as_i64["lo"],
        hi=as_i64["hi"],
        normal=as_i64["normal"].astype(np.int8),
        kind=as_i64["kind"].astype(np.int8),
        polygon=as_i64["polygon"],
        start_corner=np.asarray(start_corner, dtype=np.int64),
        end_corner=np.asarray(end_corner, dtype=np.int64),
        start=as_i64["start"],
        end=as_i64["end"],
        corners=np.asarray(corners, dtype=np.int64).reshape(-1, 5),
        loops=tuple(loops),
    )


def moved_polygons(segs: SegmentSet, offsets: np.ndarray) -> list[np.ndarray]:
    """The mask polygons after moving every segment by its (integer) offset along the outward normal.

    Each segment contributes its two end points on the moved edge; an end at a polygon vertex moves with the
    perpendicular segment meeting it there, so consecutive segments of one edge are joined by a jog and the
    vertex itself moves diagonally. Collinear and repeated points are removed.

    Args:
        segs: the segments.
        offsets: (S,) integer moves in nm, positive = outward.

    Returns:
        One (n, 2) int64 vertex array (x, y) per target polygon.
    """
    d = np.asarray(np.rint(offsets), dtype=np.int64)
    moved_pos = segs.pos + segs.normal * d
    c = segs.corners

    def shifted(coord: int, corner: int, seg_axis: int) -> int:
        if corner < 0:
            return coord
        other = c[corner, 1] if seg_axis == 0 else c[corner, 0]
        return coord + int(segs.normal[other] * d[other])

    out = []
    for loop in segs.loops:
        pts: list[tuple[int, int]] = []
        for s in loop:
            a = shifted(int(segs.start[s]), int(segs.start_corner[s]), int(segs.axis[s]))
            b = shifted(int(segs.end[s]), int(segs.end_corner[s]), int(segs.axis[s]))
            m = int(moved_pos[s])
            pts += [(m, a), (m, b)] if segs.axis[s] == 0 else [(a, m), (b, m)]
        out.append(_simplify(np.asarray(pts, dtype=np.int64)))
    return out


def _clean(verts: np.ndarray, index: int) -> np.ndarray:
    """Drop a repeated closing vertex, repeated points and collinear points; check rectilinearity."""
    if len(verts) > 1 and np.array_equal(verts[0], verts[-1]):
        verts = verts[:-1]
    verts = _simplify(verts)
    if len(verts) < 4:
        raise InputError(f"polygons[{index}]", verts.tolist(), "a rectilinear polygon with at least 4 vertices")
    nxt = np.roll(verts, -1, axis=0)
    if not np.all((verts[:, 0] == nxt[:, 0]) | (verts[:, 1] == nxt[:, 1])):
        raise InputError(f"polygons[{index}]", verts.tolist(), "a rectilinear (Manhattan) polygon")
    return verts


def _simplify(pts: np.ndarray) -> np.ndarray:
    """Remove consecutive duplicates and middle points of collinear triples of a closed loop."""
    changed = True
    while changed and len(pts) >= 3:
        changed = False
        keep = np.any(pts != np.roll(pts, 1, axis=0), axis=1)
        if not keep.all():
            pts, changed = pts[keep], True
            continue
        prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
        cross = (pts[:, 0] - prev[:, 0]) * (nxt[:, 1] - pts[:, 1]) - (pts[:, 1] - prev[:, 1]) * (nxt[:, 0] - pts[:, 0])
        if np.any(cross == 0):
            first = int(np.flatnonzero(cross == 0)[0])
            pts, changed = np.delete(pts, first, axis=0), True
    return pts


def _signed_area2(verts: np.ndarray) -> int:
    """Twice the signed (shoelace) area; > 0 for a counter-clockwise loop in (x, y)."""
    x, y = verts[:, 0], verts[:, 1]
    return int(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _cross(u: np.ndarray, v: np.ndarray) -> int:
    return int(u[0] * v[1] - u[1] * v[0])
