"""``chipcrew bench opc``: options, choices in the help, errors, and one small run (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipcrew.cli import app

runner = CliRunner()
BENCH = ["bench", "opc"]


def test_help_lists_the_choices() -> None:
    result = runner.invoke(app, [*BENCH, "--help"])
    assert result.exit_code == 0
    for word in ("--suite", "iccad13", "via", "contact", "--method", "diffopc", "ilt", "mbopc", "camo", "--raster",
                 "inclusive", "--cases", "--compare", "--variant", "--checkpoint"):
        assert word in result.output


def test_bad_method_is_rejected_with_the_choices(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--method", "sraf", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --method: 'sraf' is not accepted (accepted: diffopc, ilt, mbopc, camo)"


def test_case_out_of_range_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--cases", "11", "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: cases: '11' is not accepted (accepted: numbers within 1..10)")


def test_malformed_variant_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--compare", "--variant", "nognn", "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: variant: ['nognn'] is not accepted (accepted: name=path")


def test_unknown_baseline_exits_2_with_the_methods(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--compare", "--baselines", "mbopc,sraf", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: baselines: 'sraf' is not accepted (accepted: diffopc, ilt, mbopc, camo)"


def test_compare_options_are_exposed() -> None:
    result = runner.invoke(app, [*BENCH, "--help"])
    assert all(word in result.output for word in ("--compare", "--reuse", "--variant", "--baselines"))


def test_camo_with_a_missing_checkpoint_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--suite", "via", "--cases", "1", "--method", "camo", "--checkpoint",
                                 str(tmp_path / "nope.pt"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.stderr.splitlines()[-1].startswith("error: checkpoint: ")


@pytest.mark.slow
def test_one_via_case_with_json_output(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--suite", "via", "--cases", "1", "--method", "diffopc", "--iterations", "3",
                                 "--out", str(tmp_path), "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["suite"] == "via" and len(data["rows"]) == 1
