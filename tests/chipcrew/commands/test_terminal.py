"""The terminal side of every command: the progress bar fed by a real tool, and the one-line error style."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError

from chipcrew.commands import terminal
from chipcrew.commands.terminal import error_line, progress_bar, run_folder
from tools.common import ChipCrewError, DataNotFoundError, InputError


def test_the_bar_draws_a_tools_progress_on_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from agents import find_tool

    monkeypatch.setattr(terminal.sys.stderr, "isatty", lambda: True)
    _, spec = find_tool("mixpe_perf")
    with progress_bar() as progress:
        result = spec.invoke({"model": "OPT-6.7B", "weight_bits": 4, "plot": False}, progress=progress)
    assert result.model_dump()["model"] == "OPT-6.7B"
    err = capsys.readouterr().err
    assert "modelling" in err and "%" in err


def test_without_a_terminal_the_bar_is_silent_or_logs_each_message_once(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar() as quiet:
        quiet("loading", 0.1)
    assert capsys.readouterr().err == ""
    with progress_bar(log=True) as log:
        for fraction in (0.0, 0.5, 1.0):
            log("step a", fraction)
        log("step b", 1.5)
    assert capsys.readouterr().err.splitlines() == ["[  0%] step a", "[100%] step b"]


class _Args(BaseModel):
    corner: Literal["nominal", "max"] = "nominal"
    steps: int = 1
    clip: str


def _validation_error(data: dict) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _Args.model_validate(data)
    return info.value


@pytest.mark.parametrize(
    ("exc", "line", "code"),
    [
        (InputError("clip", "M1_test11", ["M1_test1", "M1_test2"]), "error: clip: 'M1_test11' is not accepted (accepted: M1_test1, M1_test2)", 2),
        (InputError("cases", "0", "numbers within 1..10"), "error: cases: '0' is not accepted (accepted: numbers within 1..10)", 2),
        (_validation_error({"clip": "a", "corner": "typical"}), "error: corner: 'typical' is not accepted (accepted: 'nominal' or 'max')", 2),
        (_validation_error({}), "error: clip: required but not given", 2),
        (_validation_error({"clip": "a", "steps": "x"}), "error: steps: Input should be a valid integer, unable to parse string as an integer, got 'x'", 2),
        (_validation_error({"steps": "x"}), "error: steps: Input should be a valid integer, unable to parse string as an integer, got 'x' [+1 more error]", 2),
        (DataNotFoundError("benchmark data not found at /x; put it there\nmore"), "error: benchmark data not found at /x; put it there", 2),
        (ChipCrewError("embedded model not found"), "error: embedded model not found", 2),
        (KeyError("w"), "internal error: KeyError: 'w' (run with --debug for the traceback)", 1),
    ],
)
def test_error_lines(exc: BaseException, line: str, code: int) -> None:
    assert error_line(exc) == (line, code)


def test_an_internal_error_from_a_run_names_its_folder(tmp_path) -> None:
    with pytest.raises(ZeroDivisionError) as info, run_folder(tmp_path):
        1 / 0
    assert error_line(info.value) == (
        f"internal error: ZeroDivisionError: division by zero (run folder: {tmp_path}; run with --debug for the traceback)",
        1,
    )
