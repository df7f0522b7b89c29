"""One workspace app per test run (the ChipCrew app takes seconds to build), in its own home, template backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chipcrew.settings import Settings

MIXPE_QUESTION = "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?"


@pytest.fixture(scope="session")
def web_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web") / "home"


@pytest.fixture(scope="session")
def web_settings(web_home: Path) -> Settings:
    return Settings(llm_backend="none", home=web_home, web_upload_limit_mb=1.0)


@pytest.fixture(scope="session")
def web_app(web_settings: Settings):
    from chipcrew.web.server import create_app

    return create_app(web_settings)


@pytest.fixture(scope="session")
def web_url(web_app) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, from a thread."""
    from chipcrew.web import serve_in_thread

    server, url = serve_in_thread(web_app)
    yield url
    server.should_exit = True
