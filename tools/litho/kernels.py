"""SOCS kernel sets: the ICCAD 2013 sets read from their ``.bin`` files, or kernels derived from optics.

Sum-of-coherent-systems (SOCS) form of the Hopkins imaging equation (Cobb, "Fast optical and process
proximity correction algorithms for integrated circuit manufacturing", PhD thesis, UC Berkeley 1998):

    I(x) = sum_k w_k |(m * h_k)(x)|^2,   TCC(f1, f2) = sum_k w_k H_k(f1) conj(H_k(f2))

A kernel set holds the frequency-domain ``H_k`` on ``M x M`` bins of the canvas DFT (bin ``i`` <-> frequency
``i - M//2`` cycles per canvas, DC at the centre) and the weights ``w_k``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from tools.common import DataNotFoundError, InputError, shared_data_dir

__all__ = ("KernelSet", "load_iccad13_kernels", "kernels_from_optics", "SOURCES")

SOURCES: tuple[str, ...] = ("circular", "annular", "quasar", "dipole")


@dataclass(frozen=True)
class KernelSet:
    """SOCS kernels and weights.

    Attributes:
        kernels: ``(K, M, M)`` complex64, frequency domain, ``M`` odd, DC at ``[M//2, M//2]``,
            axis 0 = row (y) frequency, axis 1 = column (x) frequency.
        weights: ``(K,)`` float32, descending (the TCC eigenvalues).
        name: provenance, e.g. ``iccad13-focus``.
    """

    kernels: torch.Tensor
    weights: torch.Tensor
    name: str

    def __post_init__(self) -> None:
        k = self.kernels
        if k.ndim != 3 or k.shape[1] != k.shape[2] or k.shape[1] % 2 == 0 or not k.is_complex():
            raise InputError("kernels", f"{tuple(k.shape)} {k.dtype}", "a complex (K, M, M) tensor with M odd")
        if self.weights.shape != (k.shape[0],):
            raise InputError("weights", tuple(self.weights.shape), f"shape ({k.shape[0]},), one weight per kernel")

    @property
    def size(self) -> int:
        """``M``, the side of the frequency window."""
        return int(self.kernels.shape[-1])

    def clear_field(self) -> float:
        """Intensity of an open (all-ones) mask at dose 1: ``sum_k w_k |H_k(0)|^2``."""
        c = self.size // 2
        return float((self.weights * self.kernels[:, c, c].abs() ** 2).sum())

    def truncated(self, n: int) -> KernelSet:
        """The ``n`` strongest kernels (SOCS truncation, e.g. for quick tests)."""
        if not 1 <= n <= self.kernels.shape[0]:
            raise InputError("n", n, f"1..{self.kernels.shape[0]}")
        return KernelSet(self.kernels[:n], self.weights[:n], f"{self.name}[:{n}]")


_ICCAD13_DIRS = {"focus": "M1OPC", "defocus": "M1OPC_def"}
_ICCAD13_HEADER = 20  # five big-endian int32: (35, 35, 2, <varies>, 0) (shared/data/iccad13/README.md)


def _read_iccad13(which: str) -> tuple[np.ndarray, np.ndarray]:
    """(kernels (24, 35, 35) complex64, weights (24,) float32) from ``fhK.bin`` + ``scales.txt``."""
    folder = shared_data_dir("iccad13") / "kernel" / _ICCAD13_DIRS[which]
    scales = folder / "scales.txt"
    if not scales.is_file():
        raise DataNotFoundError(f"kernel weights not found at {scales}; put the iccad13 kernel folder there")
    numbers = scales.read_text().split()
    count = int(numbers[0])
    weights = np.array([float(v) for v in numbers[1 : count + 1]], dtype=np.float32)
    kernels = np.empty((count, 35, 35), dtype=np.complex64)
    for k in range(count):
        raw = (folder / f"fh{k}.bin").read_bytes()
        width, height = np.frombuffer(raw[:8], ">i4")
        values = np.frombuffer(raw[_ICCAD13_HEADER : _ICCAD13_HEADER + 8 * width * height], ">f4")
        # Stored with x (column) as the slow index: transpose to [row, col].
        kernels[k] = (values[0::2] + 1j * values[1::2]).reshape(width, height).T
    return kernels, weights


def load_iccad13_kernels(which: Literal["focus", "defocus"] = "focus") -> KernelSet:
    """The ICCAD 2013 contest kernels: 24 kernels of 35 x 35, ``focus`` (M1OPC) or ``defocus`` (M1OPC_def).

    Raises:
        InputError: ``which`` is not focus/defocus. DataNotFoundError: the kernel files are missing.
    """
    if which not in _ICCAD13_DIRS:
        raise InputError("which", which, tuple(_ICCAD13_DIRS))
    kernels, weights = _read_iccad13(which)
    return KernelSet(torch.from_numpy(kernels.copy()), torch.from_numpy(weights.copy()), f"iccad13-{which}")


def kernels_from_optics(
    wavelength_nm: float = 193.0,
    na: float = 0.85,
    source: Literal["circular", "annular", "quasar", "dipole"] = "annular",
    sigma_in: float = 0.5,
    sigma_out: float = 0.8,
    pole_half_angle_deg: float = 30.0,
    dipole_axis: Literal["x", "y"] = "x",
    defocus_nm: float = 0.0,
    medium_index: float = 1.0,
    n_kernels: int = 24,
    pixel_nm: float = 1.0,
    size: int = 2048,
    source_step: float = 1.0,
) -> KernelSet:
    """SOCS kernels of a partially coherent scalar imaging system, from the Hopkins TCC by SVD.

    The TCC of a source ``J`` and pupil ``P`` is ``TCC(f1, f2) = sum_s J(s) P(f1 + s) conj(P(f2 + s))``
    (Hopkins 1953; Born & Wolf, Principles of Optics, sec. 10.5). Writing ``A[s, f] = sqrt(J(s))
    conj(P(f + s))`` gives ``TCC = A^H A``, so the right singular vectors of ``A`` are the SOCS kernels and the
    squared singular values their weights (Cobb 1998) -- no ``M^2 x M^2`` matrix is formed.
    ``J`` is normalised so that an open frame images to intensity 1.

    Args:
        wavelength_nm, na: exposure wavelength and numerical aperture (defaults: dry ArF, 193 nm, NA 0.85,
            whose band on the 2048 nm canvas is 35 x 35 bins like the ICCAD13 kernels').
        source: illumination shape, in partial-coherence units sigma = (source frequency) / (NA / lambda).
        sigma_in, sigma_out: inner and outer sigma (``circular`` uses ``sigma_out`` only; 0 = coherent).
        pole_half_angle_deg: half opening angle of each quasar / dipole pole.
        dipole_axis: poles on the x or the y axis.
        defocus_nm: defocus distance; the pupil gets the phase ``2 pi z (sqrt(n^2 - (lambda f)^2) - n) / lambda``
            (Mack, Fundamental Principles of Optical Lithography, 2007, ch. 3, defocus as a pupil aberration).
        medium_index: refractive index of the image-side medium (1.0 dry; 1.44 water at 193 nm, Mack ch. 10);
            must exceed NA.
        n_kernels: number of kernels kept (the strongest).
        pixel_nm, size: the canvas the kernels are for; one frequency bin = 1 / (size * pixel_nm) per nm.
        source_step: pitch of the source sample grid in frequency bins (finer = closer to a continuous source,
            slower SVD).

    Returns:
        A KernelSet with ``M = 2 ceil((1 + sigma_out) NA / lambda * size * pixel_nm) + 1``.

    Raises:
        InputError: a parameter out of range.
    """
    if source not in SOURCES:
        raise InputError("source", source, SOURCES)
    if not 0 < na < medium_index:
        raise InputError("na", na, f"0 < na < medium_index ({medium_index})")
    if not 0 <= sigma_out <= 1 or (source != "circular" and not 0 <= sigma_in <= sigma_out):
        raise InputError("sigma_in/sigma_out", (sigma_in, sigma_out), "0 <= sigma_in <= sigma_out <= 1")
    if dipole_axis not in ("x", "y"):
        raise InputError("dipole_axis", dipole_axis, ("x", "y"))
    if n_kernels < 1:
        raise InputError("n_kernels", n_kernels, "an integer >= 1")
    bin_per_nm = size * pixel_nm  # frequency [1/nm] = bins / (size * pixel_nm)
    cutoff = na / wavelength_nm * bin_per_nm  # pupil radius in bins
    half = math.ceil((1.0 + sigma_out) * cutoff)
    m = 2 * half + 1
    if m > size // 2:
        accepted = f"optics whose band ({m} bins) fits the {size} px canvas"
        raise InputError("na/wavelength_nm", (na, wavelength_nm), accepted)
    fy, fx = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1), indexing="ij")
    f = np.stack([fx.ravel(), fy.ravel()], axis=1).astype(np.float64)  # (M^2, 2) bins, (x, y)

    s = _source_points(source, sigma_in, sigma_out, pole_half_angle_deg, dipole_axis, cutoff, source_step)
    if s.shape[0] == 0:
        raise InputError("source_step", source_step, "a pitch fine enough to put source points in the pole/annulus")
    pupil = _pupil(f[None, :, :] + s[:, None, :], cutoff, wavelength_nm, bin_per_nm, defocus_nm, medium_index)
    clear = np.sum(np.abs(_pupil(s, cutoff, wavelength_nm, bin_per_nm, defocus_nm, medium_index)) ** 2)
    if clear == 0:
        raise InputError("source", source, "a source with points inside the pupil")
    a = np.conj(pupil) / np.sqrt(clear)  # J(s) = 1 / clear: open frame -> intensity 1
    _, sv, vh = np.linalg.svd(a, full_matrices=False)
    n = min(n_kernels, sv.size)
    kernels = np.conj(vh[:n]).reshape(n, m, m)  # columns of V = conj(rows of V^H)
    weights = sv[:n] ** 2
    name = f"optics-{wavelength_nm:g}nm-NA{na:g}-{source}-{sigma_in:g}-{sigma_out:g}-df{defocus_nm:g}"
    return KernelSet(torch.from_numpy(kernels.astype(np.complex64)), torch.from_numpy(weights.astype(np.float32)), name)


def _source_points(
    source: str, sigma_in: float, sigma_out: float, half_angle_deg: float, axis: str, cutoff: float, step: float
) -> np.ndarray:
    """Source sample points ``(n, 2)`` in frequency bins ``(x, y)`` on a square grid of pitch ``step`` bins."""
    if sigma_out == 0:
        return np.zeros((1, 2))
    k = math.floor(sigma_out * cutoff / step)
    g = np.arange(-k, k + 1) * step
    sx, sy = np.meshgrid(g, g, indexing="xy")
    sx, sy = sx.ravel(), sy.ravel()
    sigma = np.hypot(sx, sy) / cutoff
    keep = sigma <= sigma_out + 1e-9
    if source != "circular":
        keep &= sigma >= sigma_in - 1e-9
    if source in ("quasar", "dipole"):
        angle = np.degrees(np.arctan2(sy, sx)) % 360.0
        centres = {"quasar": (45.0, 135.0, 225.0, 315.0), "dipole": (0.0, 180.0) if axis == "x" else (90.0, 270.0)}
        near = np.zeros_like(keep)
        for c in centres[source]:
            near |= np.abs((angle - c + 180.0) % 360.0 - 180.0) <= half_angle_deg
        keep &= near
    return np.stack([sx[keep], sy[keep]], axis=1)


def _pupil(
    f_bins: np.ndarray, cutoff: float, wavelength_nm: float, bin_per_nm: float, defocus_nm: float, n: float
) -> np.ndarray:
    """Pupil ``P(f)`` at frequencies given in bins (last axis = (x, y)): circ(NA/lambda) times defocus phase."""
    rho = np.hypot(f_bins[..., 0], f_bins[..., 1])
    inside = rho <= cutoff
    if defocus_nm == 0:
        return inside.astype(np.complex128)
    lam_f = wavelength_nm * rho / bin_per_nm  # lambda |f|, < NA < n inside the pupil
    phase = 2 * np.pi * defocus_nm / wavelength_nm * (np.sqrt(np.maximum(n * n - lam_f**2, 0.0)) - n)
    return inside * np.exp(1j * phase)
