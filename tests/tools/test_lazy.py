"""Lazy package re-exports: a name loads its module on first use; an unknown name is an AttributeError."""

from __future__ import annotations

import sys
import types

import pytest

from tools._lazy import lazy_exports


def test_a_name_imports_its_module_only_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    package = types.ModuleType("fakepkg")
    package.__path__ = []  # a package
    engine = types.ModuleType("fakepkg.engine")
    engine.Thing = object()
    monkeypatch.setitem(sys.modules, "fakepkg", package)
    getattr_, dir_, all_ = lazy_exports("fakepkg", {"engine": ("Thing",)})
    assert all_ == ("Thing",) and dir_() == ["Thing"]
    monkeypatch.setitem(sys.modules, "fakepkg.engine", engine)  # what importlib would find
    assert getattr_("Thing") is engine.Thing
    with pytest.raises(AttributeError, match="fakepkg.*Nope"):
        getattr_("Nope")


def test_the_litho_package_exports_every_listed_name() -> None:
    import tools.litho as litho

    assert all(getattr(litho, name) is not None for name in litho.__all__)
