"""``chipcrew bench opc``: options, choices in the help, errors, and one small run (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from chipcrew.commands.bench_opc import command

runner = CliRunner()
app = typer.Typer()
app.command()(command)


def test_help_lists_the_choices() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("--suite", "iccad13", "via", "contact", "--method", "diffopc", "ilt", "mbopc", "camo", "--raster",
                 "inclusive", "--cases", "--compare", "--variant", "--checkpoint"):
        assert word in result.output


def test_bad_method_is_rejected_with_the_choices(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--method", "sraf", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "sraf" in result.output


def test_case_out_of_range_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--cases", "11", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "cases" in result.output


def test_malformed_variant_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--compare", "--variant", "nognn", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "variant" in result.output


def test_camo_with_a_missing_checkpoint_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--suite", "via", "--cases", "1", "--method", "camo", "--checkpoint",
                                 str(tmp_path / "nope.pt"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "checkpoint" in result.output


@pytest.mark.slow
def test_one_via_case_with_json_output(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--suite", "via", "--cases", "1", "--method", "diffopc", "--iterations", "3",
                                 "--out", str(tmp_path), "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["suite"] == "via" and len(data["rows"]) == 1
