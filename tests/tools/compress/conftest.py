"""The tiny random LLaMA folder every compression test runs on (``tools.compress.testing``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.compress.testing import make_tiny_llama


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of the tiny model, shared by the whole run (tools never write into their input folder)."""
    return make_tiny_llama(tmp_path_factory.mktemp("tiny") / "llama")


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models are dominated by per-op overhead; one thread avoids thread hand-offs on a busy CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
