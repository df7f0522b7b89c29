"""Shared pieces every tool uses: the error base, the result base, the run context, run folders, data paths,
progress."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = (
    "ChipCrewError",
    "InputError",
    "DataNotFoundError",
    "ToolResult",
    "ProgressFn",
    "report",
    "RunContext",
    "use_context",
    "current_context",
    "default_home",
    "default_cache_dir",
    "default_shared_data",
    "run_dir",
    "user_data_dir",
    "user_cache_dir",
    "shared_data_dir",
    "package_versions",
    "package_dir",
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

    # built on first use: ~30 result models would otherwise cost ~0.1 s of every CLI start that only lists schemas
    model_config = ConfigDict(defer_build=True)

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


def package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it (packages that ship model weights or data
    files may need heavy or missing dependencies on import); None when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def default_home() -> Path:
    """The platform's user data folder for ChipCrew (runs, indexes, sessions)."""
    from platformdirs import user_data_path

    return user_data_path("chipcrew")


def default_cache_dir() -> Path:
    """The platform's user cache folder for ChipCrew (converted weights, trained helpers)."""
    from platformdirs import user_cache_path

    return user_cache_path("chipcrew")


def default_shared_data() -> Path:
    """``../shared/data`` beside the project root: where a checkout finds the benchmark data it does not ship."""
    return PROJECT_ROOT.parent / "shared" / "data"


def _env_path(var: str, default: Callable[[], Path]) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else default()


class RunContext(BaseModel):
    """Where a tool call reads and writes: handed to tools by the application (``Settings.run_context()``)
    instead of environment variables.

    With no context set (a tool called directly from Python), each field takes the ``CHIPCREW_*`` variable
    named below, else the platform default.
    """

    model_config = ConfigDict(frozen=True)

    home: Path = Field(
        default_factory=lambda: _env_path("CHIPCREW_HOME", default_home),
        description="Runs, indexes and sessions (CHIPCREW_HOME).",
    )
    cache_dir: Path = Field(
        default_factory=lambda: _env_path("CHIPCREW_CACHE_DIR", default_cache_dir),
        description="Converted model weights and trained helpers (CHIPCREW_CACHE_DIR).",
    )
    shared_data: Path = Field(
        default_factory=lambda: _env_path("CHIPCREW_SHARED_DATA", default_shared_data),
        description="Benchmark data the project does not ship (CHIPCREW_SHARED_DATA).",
    )
    qdrant_url: str | None = Field(
        default_factory=lambda: os.environ.get("CHIPCREW_QDRANT_URL") or None,
        description="Qdrant server for the doc-QA index; None runs Qdrant embedded (CHIPCREW_QDRANT_URL).",
    )


_CONTEXT: ContextVar[RunContext | None] = ContextVar("chipcrew_run_context", default=None)


@contextmanager
def use_context(ctx: RunContext) -> Iterator[RunContext]:
    """Make ``ctx`` the current run context for the block (this thread or task only; nested blocks restore)."""
    token = _CONTEXT.set(ctx)
    try:
        yield ctx
    finally:
        _CONTEXT.reset(token)


def current_context() -> RunContext:
    """The context set by the innermost ``use_context``, else one from the environment and platform defaults."""
    return _CONTEXT.get() or RunContext()


def user_data_dir() -> Path:
    """Where ChipCrew keeps runs, indexes and sessions: the current context's ``home``."""
    return current_context().home


def user_cache_dir() -> Path:
    """Where ChipCrew caches converted model weights and trained helpers: the current context's ``cache_dir``."""
    return current_context().cache_dir


def run_dir(out_dir: str | os.PathLike[str] | None, tool: str) -> Path:
    """The folder a tool writes its artefacts to: ``out_dir`` if given, else a fresh timestamped one under
    the current context's ``home``."""
    if out_dir is not None:
        path = Path(out_dir)
    else:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
        path = user_data_dir() / "runs" / f"{tool}-{stamp}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shared_data_dir(sub: str = "") -> Path:
    """Benchmark data not shipped with the project, under the current context's ``shared_data``.

    Raises:
        DataNotFoundError: the folder does not exist; the message says where to put it.
    """
    base = current_context().shared_data
    path = base / sub if sub else base
    if not path.exists():
        raise DataNotFoundError(
            f"benchmark data not found at {path}; put the shared data folder at {base}, or point "
            f"CHIPCREW_SHARED_DATA (or shared_data in the config file) at the folder that holds "
            f"'{sub or 'iccad13, via, ord-qa, ...'}'"
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
