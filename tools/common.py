"""Shared pieces every tool uses: the error base, the result base, run folders, data paths, progress."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel, Field

__all__ = (
    "ChipCrewError",
    "InputError",
    "DataNotFoundError",
    "ToolResult",
    "ProgressFn",
    "report",
    "run_dir",
    "user_cache_dir",
    "shared_data_dir",
    "package_versions",
    "Timer",
    "quiet_transformers",
    "torch_threads",
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ProgressFn = Callable[[str, float], None]
"""Progress callback: ``progress(message, fraction_done)`` with ``fraction_done`` in [0, 1]."""


class ChipCrewError(Exception):
    """Base of every error ChipCrew raises on purpose; the message says what to change."""


class InputError(ChipCrewError, ValueError):
    """A field holds a value the tool cannot use.

    Args:
        field: the argument's name (dotted path for nested fields).
        value: what was given.
        accepted: what would have been accepted, in words or as a list.
    """

    def __init__(self, field: str, value: object, accepted: str | Iterable[object]):
        self.field = field
        self.value = value
        if not isinstance(accepted, str):
            accepted = "one of " + ", ".join(str(a) for a in accepted)
        self.accepted = accepted
        super().__init__(f"{field}: {value!r} is not accepted; expected {accepted}")


class DataNotFoundError(ChipCrewError, FileNotFoundError):
    """Benchmark data that the project does not ship is missing; the message says where to put it."""


class ToolResult(BaseModel):
    """Fields every tool result carries, so a run can be reproduced and timed."""

    seed: int | None = Field(default=None, description="Random seed used, if the tool is stochastic.")
    seconds: float = Field(default=0.0, description="Wall time of the tool call. In seconds.")
    versions: dict[str, str] = Field(default_factory=dict, description="Versions of the packages that computed it.")
    artifacts: dict[str, str] = Field(default_factory=dict, description="Paths of files written (GDS, PNG, NPY, JSON).")


def report(progress: ProgressFn | None, message: str, fraction: float) -> None:
    """Send one progress update if a callback was given."""
    if progress is not None:
        progress(message, min(max(fraction, 0.0), 1.0))


def package_versions(*names: str) -> dict[str, str]:
    """Installed versions of the named distributions plus Python's, for result provenance."""
    out = {"python": platform.python_version(), "chipcrew": _version("chipcrew")}
    for name in names:
        out[name] = _version(name)
    return out


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def user_data_dir() -> Path:
    """Where ChipCrew keeps runs, indexes and sessions (``CHIPCREW_HOME`` overrides)."""
    env = os.environ.get("CHIPCREW_HOME")
    if env:
        return Path(env)
    from platformdirs import user_data_path

    return user_data_path("chipcrew")


def user_cache_dir() -> Path:
    """Where ChipCrew caches converted model weights and trained helpers (``CHIPCREW_CACHE_DIR`` overrides)."""
    env = os.environ.get("CHIPCREW_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_path

    return user_cache_path("chipcrew")


def run_dir(out_dir: str | os.PathLike[str] | None, tool: str) -> Path:
    """The folder a tool writes its artefacts to: ``out_dir`` if given, else a fresh timestamped one."""
    if out_dir is not None:
        path = Path(out_dir)
    else:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
        path = user_data_dir() / "runs" / f"{tool}-{stamp}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shared_data_dir(sub: str = "") -> Path:
    """Benchmark data not shipped with the project: ``$CHIPCREW_SHARED_DATA`` or ``../shared/data``.

    Raises:
        DataNotFoundError: the folder does not exist; the message says where to put it.
    """
    env = os.environ.get("CHIPCREW_SHARED_DATA")
    base = Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"
    path = base / sub if sub else base
    if not path.exists():
        raise DataNotFoundError(
            f"benchmark data not found at {path}; put the shared data folder there "
            f"or set CHIPCREW_SHARED_DATA to the folder that holds '{sub or 'iccad13, via, ord-qa, ...'}'"
        )
    return path


class Timer:
    """Context manager measuring wall seconds: ``with Timer() as t: ...; t.seconds``."""

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


def quiet_transformers() -> None:
    """Silence transformers' load-time progress bars and advisories; ChipCrew reports its own progress."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with ``n`` torch CPU threads, then restore the previous count.

    Small models (MiniLM queries, SmolLM2 decoding) are latency-bound: one thread costs little on an idle
    machine, while OpenMP spin-waits make two threads 30x slower on busy cores (measured on 2 cores).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
