"""Which clips the learned OPC methods (CAMO's policies, the recipe search) train on and which they are tested on.

* train: the 271 LithoBench StdMetal clips (``list_clips("metal")``) and the first 120 StdContact clips in sorted
  order;
* test only: the 10 ICCAD 2013 M1 clips, the other 45 StdContact clips (and, for CAMO's via policy, the 10 via1
  clips). Never train or tune on these.
"""

from __future__ import annotations

from typing import Literal, get_args

from tools.common import InputError
from tools.litho.clips import list_clips

__all__ = ("Split", "SPLITS", "CONTACT_TRAIN", "split_clips", "held_out_contacts", "is_test_clip")

Split = Literal["train", "test"]
SPLITS: tuple[str, ...] = get_args(Split)
CONTACT_TRAIN = 120
"""The first 120 sorted StdContact clips are for training and search; the other 45 for testing."""


def split_clips(split: Split) -> dict[str, list[str]]:
    """The clips of a split by family: ``{"metal": [...], "contact": [...]}`` or ``{"iccad13": [...], "contact": [...]}``.

    StdMetal is in plain sorted order (as the training runs drew from it); the contacts in registry order (the same
    first 120 either way).

    Raises:
        InputError: unknown split.
    """
    if split not in SPLITS:
        raise InputError("split", split, SPLITS)
    contacts = list_clips("contact")
    if split == "train":
        return {"metal": sorted(list_clips("metal")), "contact": contacts[:CONTACT_TRAIN]}
    return {"iccad13": list_clips("iccad13"), "contact": contacts[CONTACT_TRAIN:]}


def held_out_contacts() -> list[str]:
    """The 45 test contact clips in plain sorted order (``chipcrew bench opc --suite contact``)."""
    return sorted(split_clips("test")["contact"])


def is_test_clip(name: str) -> bool:
    """Whether ``name`` is a held-out clip (searching on it is allowed for reference, fitting never)."""
    held = split_clips("test")
    return name in held["iccad13"] or name in held["contact"]
