"""The run context: what a tool reads for its folders and services, set per call and restored afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.common import RunContext, current_context, run_dir, use_context, user_data_dir


def test_without_a_context_tools_use_the_environment_then_the_platform_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIPCREW_HOME", str(tmp_path / "env-home"))
    monkeypatch.setenv("CHIPCREW_QDRANT_URL", "http://qdrant:6333")
    ctx = current_context()
    assert ctx.home == tmp_path / "env-home" and ctx.qdrant_url == "http://qdrant:6333"
    monkeypatch.delenv("CHIPCREW_HOME")
    from platformdirs import user_data_path

    assert user_data_dir() == user_data_path("chipcrew")


def test_contexts_nest_and_restore(tmp_path: Path) -> None:
    outer, inner = RunContext(home=tmp_path / "outer"), RunContext(home=tmp_path / "inner")
    before = current_context()
    with use_context(outer):
        with use_context(inner):
            assert tmp_path / "inner" / "runs" in run_dir(None, "t").parents
        assert current_context() is outer
    assert current_context() == before


def test_a_context_is_immutable(tmp_path: Path) -> None:
    ctx = RunContext(home=tmp_path)
    with pytest.raises(ValueError, match="frozen"):
        ctx.home = tmp_path / "other"  # type: ignore[misc]


def test_package_dir_finds_an_installed_package_without_importing_it_and_none_for_a_missing_one() -> None:
    import sys

    from tools.common import package_dir

    sys.modules.pop("pydoc_data", None)
    folder = package_dir("pydoc_data")
    assert folder is not None and (folder / "topics.py").is_file() and "pydoc_data" not in sys.modules
    assert package_dir("no_such_package_chipcrew") is None
