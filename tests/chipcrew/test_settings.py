from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chipcrew.settings import Settings


def test_defaults_are_the_embedded_offline_backend() -> None:
    s = Settings()
    assert s.llm_backend == "embedded" and not s.llm_capable


def test_base_url_alone_switches_to_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPCREW_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    s = Settings()
    assert s.llm_backend == "openai" and s.llm_capable


def test_explicit_backend_wins_over_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPCREW_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert Settings(llm_backend="none").llm_backend == "none"


def test_toml_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('llm_backend = "none"\nllm_timeout_s = 5\n')
    monkeypatch.setenv("CHIPCREW_CONFIG", str(cfg))
    s = Settings()
    assert (s.llm_backend, s.llm_timeout_s) == ("none", 5)


def test_bad_backend_names_field_and_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPCREW_LLM_BACKEND", "gpt")
    with pytest.raises(ValidationError, match=r"llm_backend[\s\S]*'embedded', 'openai' or 'none'"):
        Settings()


def test_tool_environment_publishes_settings_for_one_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from chipcrew.settings import tool_environment
    from tools.common import user_cache_dir, user_data_dir

    monkeypatch.delenv("CHIPCREW_QDRANT_URL", raising=False)
    before = user_data_dir()
    s = Settings(home=tmp_path / "h", cache_dir=tmp_path / "c", qdrant_url="http://127.0.0.1:6333")
    with tool_environment(s):
        assert (user_data_dir(), user_cache_dir()) == (tmp_path / "h", tmp_path / "c")
        assert os.environ["CHIPCREW_QDRANT_URL"] == "http://127.0.0.1:6333"
    assert user_data_dir() == before and "CHIPCREW_QDRANT_URL" not in os.environ


def test_a_tool_run_through_the_app_writes_under_the_configured_home(tmp_path: Path) -> None:
    from chipcrew.app import ChipCrew

    home = tmp_path / "configured"
    turn = ChipCrew(Settings(llm_backend="none", home=home)).ask("optimize aes_via1__217_754 with model-based OPC for 3 iterations")
    paths = [Path(p) for p in turn.result["artifacts"].values()]
    assert paths and all(home in p.parents for p in paths)


def test_toml_qdrant_url_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('qdrant_url = "http://qdrant:6333"\n')
    monkeypatch.setenv("CHIPCREW_CONFIG", str(cfg))
    assert Settings().qdrant_url == "http://qdrant:6333"
