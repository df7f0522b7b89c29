"""Closed-form low-frequency spectrum of a segment-moved Manhattan mask, differentiable in the segment offsets.

The DFT of the indicator of a pixel interval ``[a, b)`` on an N-point grid at frequency ``f`` is the geometric
sum (a Dirichlet kernel)

    S(a, b; f) = sum_{x=a}^{b-1} exp(-2 pi i f x / N) = (exp(-i w a) - exp(-i w b)) / (1 - exp(-i w)),  w = 2 pi f / N

(``b - a`` at f = 0). The right-hand side is smooth in real ``a`` and ``b``, equals the pixel sum at integer
ends and is signed: ``S(b, a) = -S(a, b)``. A rectangle's 2-D DFT is ``S_x * S_y`` (separable), so the
spectrum of a Manhattan mask and its exact derivative with respect to any edge position cost
O(rectangles x 35 x 35); ``dS/db = i w exp(-i w b) / (1 - exp(-i w))`` is the boundary term (see
/work/shared/DESIGN.md, "Facts worth knowing"). This replaces DiffOPC's midpoint gradient approximation
(the released code averages the image gradient at a segment's midpoint) by the gradient of the spectrum
itself.

The mask with moved segments is written as signed rectangles (inclusion-exclusion, all intervals signed):

* every vertical segment at ``x = p`` with outward normal ``n`` and span ``[lo, hi)``: ``n * [0, p + n d) x [lo, hi)``
  (the target itself is the sum of these at d = 0: a Green's-theorem decomposition over vertical edges);
* every horizontal segment: ``n * [lo, hi) x [p, p + n d)`` (the strip swept by the moved edge);
* every vertex where a vertical (normal ``nx``, move ``dx``) and a horizontal segment (``ny``, ``dy``) meet:
  ``s * nx * ny * [x, x + nx dx) x [y, y + ny dy)`` with ``s = +1`` at a convex and ``-1`` at a concave vertex
  (the corner square that both strips miss or both cover);
* optionally, a corner treatment of half-size ``h`` at a vertex (``tools.opc.serifs``), centred on the moved
  vertex ``(X, Y)``: ``s * [X - h, X + h) x [Y - h, Y + h)`` plus ``-s * nx * ny * [X, X - s nx h) x [Y, Y - s ny h)``,
  i.e. at a convex vertex the square minus its quarter already inside the feature (a serif), at a concave one
  minus the square plus its quarter already outside (a mousebite).

For a legal move (the moved outline stays simple) the sum is the 0/1 indicator of the moved polygon, pixel
for pixel at integer offsets, so the same terms give the exact raster (``raster``) and the spectrum
(``spectrum``) of what is written to the mask file.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from tools.opc.segments import SegmentSet

__all__ = ("EdgeMask", "interval_spectrum", "KERNEL_HALF")

KERNEL_HALF = 17
"""The ICCAD13 SOCS kernels span 35 x 35 frequency bins: +-17 around DC (iccad13/README.md)."""


def interval_spectrum(a: torch.Tensor, b: torch.Tensor, n: int, half: int = KERNEL_HALF) -> torch.Tensor:
    """Closed-form DFT of the signed interval ``[a, b)`` at frequencies ``-half..half`` of an n-point grid.

    Args:
        a: (T,) real interval starts (any real value; integers give the pixel sum exactly).
        b: (T,) real interval ends.
        n: grid size N.
        half: highest frequency index kept.

    Returns:
        (T, 2 * half + 1) complex tensor, column ``half + f`` holding S(a, b; f); dtype complex128 for float64
        inputs.
    """
    f = torch.arange(-half, half + 1, dtype=a.dtype, device=a.device)
    w = 2.0 * math.pi * f / n  # (F,)
    phase_a = torch.polar(torch.ones_like(a[:, None] * w), -a[:, None] * w)  # (T, F)
    phase_b = torch.polar(torch.ones_like(b[:, None] * w), -b[:, None] * w)
    denom = 1.0 - torch.polar(torch.ones_like(w), -w)
    dc = f == 0
    denom = torch.where(dc, torch.ones_like(denom), denom)
    geometric = (phase_a - phase_b) / denom
    length = (b - a)[:, None].to(geometric.dtype).expand_as(geometric)
    return torch.where(dc, length, geometric)


class EdgeMask:
    """The mask of a :class:`SegmentSet` as a function of the segment offsets.

    Args:
        segs: the segments of the target polygons.
        size: canvas size N (2048 for ICCAD13).
        bias: optional (S,) integer offsets always added to the optimised ones; the inclusive (cv2.fillPoly)
            raster convention is the exact raster of the polygon with every +x and +y facing segment moved out
            by one pixel, so ``bias = (normal > 0)`` turns exact into inclusive rasterisation.
    """

    def __init__(self, segs: SegmentSet, size: int = 2048, bias: np.ndarray | None = None):
        self.segs = segs
        self.size = size
        self.bias = np.zeros(len(segs), np.int64) if bias is None else np.asarray(bias, np.int64)
        vert = np.flatnonzero(segs.axis == 0)
        horiz = np.flatnonzero(segs.axis == 1)
        c = segs.corners
        self._vert, self._horiz = vert, horiz
        self._cv, self._ch = c[:, 0], c[:, 1]
        normal = segs.normal.astype(np.float64)
        # Per term: coefficient and the constant parts of the x and y intervals.
        self._coef = np.concatenate([normal[vert], normal[horiz], c[:, 4] * normal[self._cv] * normal[self._ch]])
        self._normal = normal

    def terms(
        self, offsets: torch.Tensor, corner_nm: np.ndarray | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Signed rectangles ``coef * [ax, bx) x [ay, by)`` whose sum is the moved mask.

        Args:
            offsets: (S,) real segment moves in nm (outward positive), float64 for gradient checks.
            corner_nm: optional (C,) half-size of the serif (convex vertex) or mousebite (concave vertex) at each
                vertex of ``segs.corners``, 0 = none (``tools.opc.serifs``). In nm.

        Returns:
            coef (T,), ax, bx, ay, by (T,) tensors of the offsets' dtype and device.
        """
        s, dev, dt = self.segs, offsets.device, offsets.dtype
        t = lambda a: torch.as_tensor(a, dtype=dt, device=dev)  # noqa: E731
        d = offsets + t(self.bias)
        n = t(self._normal)
        moved = t(s.pos) + n * d  # (S,) moved edge coordinate
        v, h, cv, ch, c = self._vert, self._horiz, self._cv, self._ch, s.corners
        ax = torch.cat([torch.zeros(len(v), dtype=dt, device=dev), t(s.lo[h]), t(c[:, 2])])
        bx = torch.cat([moved[v], t(s.hi[h]), moved[cv]])
        ay = torch.cat([t(s.lo[v]), t(s.pos[h]), t(c[:, 3])])
        by = torch.cat([t(s.hi[v]), moved[h], moved[ch]])
        coef = t(self._coef)
        if corner_nm is not None and np.any(corner_nm):
            k = np.flatnonzero(corner_nm)
            half, sign = t(corner_nm[k]), c[k, 4].astype(np.float64)
            nx, ny = self._normal[cv[k]], self._normal[ch[k]]
            vx, vy = moved[cv[k]], moved[ch[k]]
            coef = torch.cat([coef, t(sign), t(-sign * nx * ny)])
            ax = torch.cat([ax, vx - half, vx])
            bx = torch.cat([bx, vx + half, vx - t(sign * nx) * half])
            ay = torch.cat([ay, vy - half, vy])
            by = torch.cat([by, vy + half, vy - t(sign * ny) * half])
        return coef, ax, bx, ay, by

    def spectrum(
        self, offsets: torch.Tensor, half: int = KERNEL_HALF, corner_nm: np.ndarray | None = None
    ) -> torch.Tensor:
        """Low-frequency mask spectrum FFT2(mask) / N^2, DC at ``[half, half]``, index ``[row = f_y, col = f_x]``.

        Same convention as ``LithoSim.mask_spectrum`` (OpenILT's ``norm="forward"`` FFT). Differentiable in
        ``offsets``; exact (to rounding) for integer offsets.

        Returns:
            (2 * half + 1, 2 * half + 1) complex tensor (complex128 for float64 offsets).
        """
        coef, ax, bx, ay, by = self.terms(offsets, corner_nm)
        sx = interval_spectrum(ax, bx, self.size, half)  # (T, F)
        sy = interval_spectrum(ay, by, self.size, half)  # (T, F)
        spec = torch.einsum("t,ty,tx->yx", coef.to(sx.dtype), sy, sx)
        return spec / float(self.size) ** 2

    def raster(self, offsets: np.ndarray, corner_nm: np.ndarray | None = None) -> np.ndarray:
        """Exact pixel raster of the mask for integer offsets, from the same signed rectangles.

        Returns:
            (N, N) float32 array; values outside {0, 1} mean the offsets are not legal (the moved outline
            crosses itself or another polygon).
        """
        coef, ax, bx, ay, by = (x.numpy() for x in self.terms(torch.as_tensor(np.rint(offsets), dtype=torch.float64), corner_nm))
        sign = coef * np.sign(bx - ax) * np.sign(by - ay)  # signed area orientation
        x0, x1 = np.minimum(ax, bx).astype(np.int64), np.maximum(ax, bx).astype(np.int64)
        y0, y1 = np.minimum(ay, by).astype(np.int64), np.maximum(ay, by).astype(np.int64)
        n = self.size
        if min(x0.min(initial=0), y0.min(initial=0)) < 0 or max(x1.max(initial=0), y1.max(initial=0)) > n:
            raise ValueError("mask rectangle outside the canvas; the clip does not fit the grid with these offsets")
        out = np.zeros((n, n), np.float32)
        if not len(sign):
            return out
        # Only the rows the rectangles span and the columns left of their right-most side can be non-zero, so the
        # two running sums are taken over that block alone (the vertical-edge strips start at x = 0).
        r0, r1, c1 = int(y0.min()), int(y1.max()), int(x1.max())
        diff = np.zeros((r1 - r0 + 1, c1 + 1), np.float64)
        np.add.at(diff, (y0 - r0, x0), sign)
        np.add.at(diff, (y0 - r0, x1), -sign)
        np.add.at(diff, (y1 - r0, x0), -sign)
        np.add.at(diff, (y1 - r0, x1), sign)
        out[r0:r1, :c1] = np.cumsum(np.cumsum(diff, axis=0), axis=1)[: r1 - r0, :c1]
        return out
