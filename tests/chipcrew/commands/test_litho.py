from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from chipcrew.cli import app as cli
from tools.common import DataNotFoundError, shared_data_dir

runner = CliRunner()


def litho(args: list[str]) -> Any:
    return runner.invoke(cli, ["litho", *args])


@pytest.fixture(scope="module")
def litho_data() -> None:
    """Skip (naming where the data belongs) when the shared benchmark data is not there."""
    try:
        shared_data_dir("iccad13")
        shared_data_dir("via")
    except DataNotFoundError as err:
        pytest.skip(str(err))


def test_simulate_json_reports_seconds_and_artefacts(litho_data: None, tmp_path) -> None:
    args = ["simulate", "--clip", "M1_test10", "--out", str(tmp_path), "--json", "--device", "cpu"]
    result = litho(args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["seconds"] > 0 and data["l2"] == 41732
    assert (tmp_path / "mask.npy").is_file() and (tmp_path / "intensity.npy").is_file()


def test_simulate_table_for_all_corners(litho_data: None, tmp_path) -> None:
    result = litho(["simulate", "--clip", "case10", "--corner", "all", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "PV band 15004" in result.output and "min" in result.output


def test_bad_clip_exits_2_with_the_accepted_names(litho_data: None, tmp_path) -> None:
    result = litho(["simulate", "--clip", "M1_test11", "--out", str(tmp_path)])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: clip: 'M1_test11' is not accepted (accepted: M1_test1..M1_test10")


def test_bad_corner_is_rejected_with_choices(tmp_path) -> None:
    result = litho(["simulate", "--clip", "M1_test1", "--corner", "typical", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --corner: 'typical' is not accepted (accepted: nominal, max, min, all)"


def test_evaluate_prints_the_metric_row(litho_data: None, tmp_path) -> None:
    litho(["simulate", "--clip", "M1_test10", "--out", str(tmp_path)])
    result = litho(["evaluate", "--clip", "M1_test10", "--mask", str(tmp_path / "mask.npy")])
    assert result.exit_code == 0, result.output
    assert "41732" in result.output and "15004" in result.output


def test_clips_lists_a_suite(litho_data: None) -> None:
    result = litho(["clips", "via"])
    assert result.exit_code == 0 and len(result.output.split()) == 10


@pytest.mark.slow
def test_help_runs_in_a_subprocess() -> None:
    out = subprocess.run([sys.executable, "-m", "chipcrew.cli", "litho", "--help"], capture_output=True, text=True, check=True)
    assert "simulate" in out.stdout and "evaluate" in out.stdout
