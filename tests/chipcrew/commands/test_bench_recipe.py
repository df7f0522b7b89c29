"""``chipcrew bench opc-recipe``: mounted under bench, options in the help, bad input as one error line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from chipcrew.cli import app

runner = CliRunner()
BENCH = ["bench", "opc-recipe"]


def test_help_lists_the_options() -> None:
    result = runner.invoke(app, [*BENCH, "--help"])
    assert result.exit_code == 0
    assert all(word in result.output for word in ("--quick", "--ppo", "--summary", "none", "embedded", "--out"))


def test_unknown_summary_backend_exits_2_with_the_choices(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--summary", "openai", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert result.stderr.strip() == "error: --summary: 'openai' is not accepted (accepted: none, embedded)"
