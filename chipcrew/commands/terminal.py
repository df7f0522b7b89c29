"""What every command shows on the terminal: one progress bar and one error style.

Progress arrives as ``progress(message, fraction)`` (:data:`tools.common.ProgressFn`) from tools, benchmarks
and the app alike; :func:`progress_bar` turns it into a tqdm bar on stderr. Errors leave a command as
exceptions and :func:`report_errors` prints them as one line:

* a user error (bad option, bad argument, unknown name, missing data) exits 2 with
  ``error: <field>: <what is wrong> (accepted: ...)``;
* anything else is an internal error: ``internal error: <type>: <message> (run folder: <path>)``, exit 1.

``chipcrew --debug ...`` lets the exception through with its traceback instead.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

import typer

if TYPE_CHECKING:
    from pydantic import ValidationError

    from tools.common import ProgressFn

try:  # recent typer carries its own copy of click; older releases used click itself
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer
    import click  # type: ignore[no-redef]

__all__ = ("progress_bar", "report_errors", "run_folder", "error_line", "verbose")

_BAR_WIDTH = 40
_PASS_THROUGH: tuple[type[BaseException], ...] = tuple(
    t
    for t in (typer.Exit, typer.Abort, getattr(click.exceptions, "NoArgsIsHelpError", None))  # NoArgsIsHelp: a group's help
    if t is not None
)


def verbose() -> bool:
    """``chipcrew --verbose`` (or ``CHIPCREW_VERBOSE=1``): show details and third-party output too."""
    return os.environ.get("CHIPCREW_VERBOSE", "") not in ("", "0")


@contextmanager
def progress_bar(log: bool = False) -> Iterator[ProgressFn]:
    """A :data:`ProgressFn` that draws a tqdm bar on stderr; the bar is closed when the block ends.

    Without a terminal on stderr (a pipe, a CI log) there is no bar: with ``log`` each new message is
    printed once as ``[ 40%] message`` (for long benchmarks), otherwise nothing is shown.
    """
    interactive = sys.stderr.isatty()
    state: dict[str, Any] = {"bar": None, "last": None}

    def update(message: str, fraction: float) -> None:
        percent = round(100 * min(max(fraction, 0.0), 1.0))
        if not interactive:
            if log and message != state["last"]:
                state["last"] = message
                print(f"[{percent:3d}%] {message}", file=sys.stderr, flush=True)
            return
        from tqdm import tqdm

        bar = state["bar"]
        if bar is None:
            bar = state["bar"] = tqdm(
                total=100, file=sys.stderr, leave=False, mininterval=0.5, bar_format="{desc} {bar} {percentage:3.0f}%"
            )
        new_message = message != state["last"]
        state["last"] = message
        bar.set_description_str(message[:_BAR_WIDTH].ljust(_BAR_WIDTH), refresh=new_message)  # a new step shows at once
        bar.update(percent - bar.n)
        if percent >= 100:
            _close(state)

    try:
        yield update
    finally:
        _close(state)


def _close(state: dict[str, Any]) -> None:
    if state["bar"] is not None:
        state["bar"].close()
        state["bar"] = None


@contextmanager
def run_folder(path: str | PathLike[str] | None) -> Iterator[None]:
    """Name the run folder of the block in the error line of any internal error that escapes it."""
    try:
        yield
    except Exception as exc:
        if path is not None and getattr(exc, "run_folder", None) is None:
            try:
                exc.run_folder = str(path)  # type: ignore[attr-defined]
            except AttributeError:  # an exception type with __slots__
                pass
        raise


@contextmanager
def report_errors(debug: bool = False) -> Iterator[None]:
    """Print an exception escaping the block as one line and exit (2: user error, 1: internal error).

    ``typer.Exit``/``Abort`` and a group's help for missing arguments pass through; with ``debug`` every
    exception passes through, traceback and all.
    """
    try:
        yield
    except _PASS_THROUGH:
        raise
    except Exception as exc:
        if debug:
            raise
        line, code = error_line(exc)
        typer.secho(line, err=True, fg=typer.colors.RED)
        raise typer.Exit(code) from None


def error_line(exc: BaseException) -> tuple[str, int]:
    """The one line the user sees for ``exc`` and the exit code."""
    from pydantic import ValidationError  # here, not at the top: `chipcrew --help` should not load pydantic

    from tools.common import ChipCrewError, InputError

    if isinstance(exc, InputError):
        accepted = str(exc.accepted).removeprefix("one of ")
        return f"error: {exc.field}: {exc.value!r} is not accepted (accepted: {accepted})", 2
    if isinstance(exc, ValidationError):
        return "error: " + _validation_line(exc), 2
    if isinstance(exc, click.exceptions.UsageError):
        return "error: " + _usage_line(exc), 2
    if isinstance(exc, ChipCrewError):
        return f"error: {_first_line(exc)}", 2
    folder = getattr(exc, "run_folder", None)
    where = f"run folder: {folder}; " if folder else ""
    return f"internal error: {type(exc).__name__}: {_first_line(exc)} ({where}run with --debug for the traceback)", 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _validation_line(exc: ValidationError) -> str:
    """The first pydantic error as ``field: what is wrong (accepted: ...)``; the Literal or Enum gives the values."""
    err = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in err["loc"]) or "(arguments)"
    expected = (err.get("ctx") or {}).get("expected")
    more = len(exc.errors()) - 1
    tail = f" [+{more} more error{'s' if more > 1 else ''}]" if more else ""
    if expected is not None:
        return f"{field}: {err['input']!r} is not accepted (accepted: {expected}){tail}"
    if err["type"] == "missing":
        return f"{field}: required but not given{tail}"
    got = "" if isinstance(err.get("input"), dict) else f", got {err.get('input')!r}"
    return f"{field}: {err['msg']}{got}{tail}"


_NOT_ONE_OF = re.compile(r"^(?:Value error, )?(?P<value>.+?) is not one of .*$", re.DOTALL)


def _usage_line(exc: Any) -> str:
    """A command-line parsing error (bad option value, unknown option, missing option) as one line."""
    param = getattr(exc, "param", None)
    field = _param_name(param) if param is not None else None
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if isinstance(exc, click.exceptions.NoSuchOption):
        ctx = exc.ctx
        params = ctx.command.get_params(ctx) if ctx else []
        options = sorted(o for p in params for o in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])] if o.startswith("--"))
        return f"{exc.option_name}: no such option (accepted: {', '.join(options)})"
    if isinstance(exc, click.exceptions.MissingParameter) and field:
        return f"{field}: required but not given"
    if field is None:
        return message.rstrip(".")
    choices = _param_choices(param)
    match = _NOT_ONE_OF.match(getattr(exc, "message", message))
    if choices and match:
        return f"{field}: {match['value']} is not accepted (accepted: {', '.join(map(str, choices))})"
    detail = getattr(exc, "message", message).removeprefix("Value error, ").rstrip(".")
    return f"{field}: {detail}" + (f" (accepted: {', '.join(map(str, choices))})" if choices else "")


def _param_name(param: Any) -> str:
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    return opts[0] if opts else str(getattr(param, "name", "argument"))


def _param_choices(param: Any) -> tuple[Any, ...]:
    """The values a parameter accepts: from its Literal annotation (typer) or its click.Choice."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    for candidate in (annotation, *get_args(annotation)):  # Optional[Literal[...]] too
        if get_origin(candidate) is Literal:
            return get_args(candidate)
    return tuple(getattr(getattr(param, "type", None), "choices", ()) or ())
