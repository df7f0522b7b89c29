"""PNG pictures of masks, prints and PV bands (full canvas, 1 px = 1 nm, row 0 at the top as stored)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

__all__ = ("save_mask_png", "save_print_png", "save_pvband_png", "load_mask_png")

# Colours (RGB): printed and in the target, target missed, printed outside the target, PV band.
_BOTH, _MISSED, _EXTRA, _BAND = (70, 70, 70), (220, 60, 60), (60, 110, 220), (245, 160, 30)
_TARGET_ONLY_LIGHT = (205, 205, 205)


def _bool(image: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    return np.asarray(image) >= 0.5


def _save(rgb: np.ndarray, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, optimize=True)
    return path


def save_mask_png(mask: np.ndarray | torch.Tensor, path: str | os.PathLike[str]) -> Path:
    """1-bit PNG of a binary mask (>= 0.5 is clear), the format of the ``ibm_opc_test`` targets."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_bool(mask)).save(path, optimize=True)
    return path


def load_mask_png(path: str | os.PathLike[str]) -> np.ndarray:
    """A PNG mask as float32 {0, 1} (any mode; grey level >= 128 is clear)."""
    with Image.open(path) as img:
        grey = np.asarray(img.convert("L"))
    return (grey >= 128).astype(np.float32)


def save_print_png(
    target: np.ndarray | torch.Tensor, printed: np.ndarray | torch.Tensor, path: str | os.PathLike[str]
) -> Path:
    """Overlay of a binary print on its target: grey = correct, red = target not printed, blue = extra."""
    t, p = _bool(target), _bool(printed)
    rgb = np.full(t.shape + (3,), 255, dtype=np.uint8)
    rgb[t & p] = _BOTH
    rgb[t & ~p] = _MISSED
    rgb[~t & p] = _EXTRA
    return _save(rgb, path)


def save_pvband_png(
    target: np.ndarray | torch.Tensor,
    print_max: np.ndarray | torch.Tensor,
    print_min: np.ndarray | torch.Tensor,
    path: str | os.PathLike[str],
) -> Path:
    """PV band (pixels where the max and min corner prints differ) in orange over the target in light grey."""
    t = _bool(target)
    band = _bool(print_max) != _bool(print_min)
    rgb = np.full(t.shape + (3,), 255, dtype=np.uint8)
    rgb[t] = _TARGET_ONLY_LIGHT
    rgb[band] = _BAND
    return _save(rgb, path)
