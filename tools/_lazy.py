"""Lazy re-exports for package ``__init__`` files, so that importing a package costs nothing it does not use.

A package that re-exports names from heavy modules (torch engines, the Qdrant client) would otherwise import
them all as soon as anything under it is imported, e.g. an agent reading one argument model. With
``lazy_exports`` the package lists what it exports and each module is imported on the first access to one of
its names (PEP 562 module ``__getattr__``).

Example::

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {"simulator": ("LithoSim", "CORNERS")})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ("lazy_exports",)


def lazy_exports(
    package: str, modules: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], tuple[str, ...]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``, exporting ``names`` of each submodule in ``modules``."""
    owner = {name: f"{package}.{module}" for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in owner:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(owner[name]), name)

    def __dir__() -> list[str]:
        return sorted(owner)

    return __getattr__, __dir__, tuple(owner)
