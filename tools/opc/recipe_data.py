"""Which clips recipes are searched and fitted on, and which they are tested on (issue 17's split).

* search and fit: the 271 LithoBench StdMetal clips (``shared/data/metal/StdMetal``) and the first 120
  StdContact clips in sorted order;
* test only: the 10 ICCAD 2013 M1 clips and the other 45 StdContact clips. Never tune on these.

StdMetal clips are not in the litho clip registry (81 of their names are also contact clip names), so they
are named ``metal:<name>`` here and loaded from their file; a file outside a registry folder is centred on
the canvas, which is LithoBench's placement of StdMetal (``design.center(2048, 2048, ...)``, metal/README.md).
"""

from __future__ import annotations

from typing import Literal

from tools.common import InputError, shared_data_dir
from tools.litho.clips import Clip, list_clips, load_clip

__all__ = ("Split", "SPLITS", "CONTACT_TRAIN", "METAL_PREFIX", "metal_clips", "split_clips", "resolve_clip", "is_test_clip")

Split = Literal["train", "test"]
SPLITS: tuple[str, ...] = ("train", "test")
CONTACT_TRAIN = 120
"""The first 120 sorted StdContact clips are for search and fitting; the other 45 for testing."""
METAL_PREFIX = "metal:"


def metal_clips() -> list[str]:
    """``metal:<name>`` for the 271 StdMetal clips, sorted."""
    folder = shared_data_dir("metal") / "StdMetal"
    return [METAL_PREFIX + p.stem for p in sorted(folder.glob("*.glp"))]


def split_clips(split: Split) -> dict[str, list[str]]:
    """The clips of a split by family: ``{"metal": [...], "contact": [...]}`` or ``{"iccad13": [...], "contact": [...]}``.

    Raises:
        InputError: unknown split.
    """
    if split not in SPLITS:
        raise InputError("split", split, SPLITS)
    contacts = list_clips("contact")
    if split == "train":
        return {"metal": metal_clips(), "contact": contacts[:CONTACT_TRAIN]}
    return {"iccad13": list_clips("iccad13"), "contact": contacts[CONTACT_TRAIN:]}


def is_test_clip(name: str) -> bool:
    """Whether ``name`` is a held-out clip (searching on it is allowed for reference, fitting never)."""
    held = split_clips("test")
    return name in held["iccad13"] or name in held["contact"]


def resolve_clip(name: str) -> Clip:
    """Load ``metal:<name>`` from StdMetal, anything else through the litho clip registry.

    Raises:
        InputError: an unknown clip name (the message says what is accepted).
    """
    if name.startswith(METAL_PREFIX):
        stem = name[len(METAL_PREFIX):]
        path = shared_data_dir("metal") / "StdMetal" / f"{stem}.glp"
        if not stem or not path.is_file():
            raise InputError("clip", name, "metal:<cell>__<i>_<j> naming one of the 271 StdMetal clips, e.g. "
                             "metal:AND2_X4__0_0")
        clip = load_clip(str(path))
        return Clip(name, "metal", clip.layout, clip.path, clip.offset)
    return load_clip(name)
