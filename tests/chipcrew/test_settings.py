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
