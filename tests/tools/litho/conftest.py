"""Fixtures for the lithography tests: the shared ICCAD13 data (skip with a clear reason if absent) and one
engine per test session (the kernels load in milliseconds, but there is no need to rebuild them)."""

from __future__ import annotations

import pytest
import torch

from tools.common import DataNotFoundError, shared_data_dir


def _data_missing() -> str | None:
    try:
        shared_data_dir("iccad13")
        shared_data_dir("via")
    except DataNotFoundError as err:
        return str(err)
    return None


@pytest.fixture(scope="session")
def litho_data() -> None:
    """Skip (naming where the data belongs) when the shared benchmark data is not there."""
    missing = _data_missing()
    if missing:
        pytest.skip(missing)


@pytest.fixture(autouse=True)
def _two_threads(two_torch_threads: None) -> None:
    """The full 2048^2 canvas: its FFTs gain from the second core."""


@pytest.fixture(scope="session")
def sim(litho_data: None):
    """The ICCAD13 engine on the full 2048 canvas, CPU, float32."""
    from tools.litho.simulator import LithoSim

    return LithoSim(device="cpu")


@pytest.fixture(scope="session")
def sim64(litho_data: None):
    """The same engine in float64: the README's exact pixel counts sit on the print threshold, where float32
    rounding (which varies with the FFT's thread count) can flip a pixel."""
    from tools.litho.simulator import LithoSim

    return LithoSim(device="cpu", dtype=torch.float64)
