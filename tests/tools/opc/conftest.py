"""Fixtures for the OPC tests: the shared ICCAD13/via data (skip, naming where it belongs, if absent) and one
float32 engine per session."""

from __future__ import annotations

import pytest

from tools.common import DataNotFoundError, shared_data_dir


@pytest.fixture(scope="session")
def opc_data() -> None:
    """Skip when the shared benchmark data is not there; the message says where to put it."""
    try:
        shared_data_dir("iccad13")
        shared_data_dir("via")
    except DataNotFoundError as err:
        pytest.skip(str(err))


@pytest.fixture(autouse=True)
def _two_threads(two_torch_threads: None) -> None:
    """The full 2048^2 canvas: its FFTs gain from the second core."""


@pytest.fixture(scope="session")
def sim(opc_data: None):
    """The ICCAD13 engine on the full 2048 canvas, CPU, float32."""
    from tools.litho.simulator import LithoSim

    return LithoSim(device="cpu")
