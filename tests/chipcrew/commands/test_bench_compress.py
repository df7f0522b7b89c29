"""``chipcrew bench compress``: options, choices in the help, errors, and a quick run on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipcrew.cli import app
from tools.compress.testing import make_tiny_llama

runner = CliRunner()
BENCH = ["bench", "compress"]


def test_help_lists_the_choices() -> None:
    result = runner.invoke(app, [*BENCH, "--help"])
    assert result.exit_code == 0
    for word in ("--suite", "blocks", "structured", "tokens", "visionzip", "--out", "--json", "--quick", "--fraction", "--model", "--set"):
        assert word in result.output


def test_bad_suite_and_fraction_are_rejected(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--suite", "layers", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --suite: 'layers' is not accepted (accepted: blocks, structured, tokens, visionzip, all)"
    result = runner.invoke(app, [*BENCH, "--fraction", "1.5", "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: --fraction:")


def test_a_malformed_preset_override_names_the_option(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--set", "seq_len", "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: --set: 'seq_len' is not accepted (accepted: KEY=VALUE")


def test_missing_model_exits_2_with_the_path(tmp_path: Path) -> None:
    result = runner.invoke(
        app, [*BENCH, "--suite", "blocks", "--quick", "--model", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "not found" in result.stderr and str(tmp_path / "nope") in result.stderr


@pytest.mark.slow
def test_quick_blocks_run_on_the_tiny_model_prints_json(tmp_path: Path) -> None:
    tiny = make_tiny_llama(tmp_path / "tiny")
    result = runner.invoke(
        app,
        [
            *BENCH,
            "--suite",
            "blocks",
            "--quick",
            "--model",
            str(tiny),
            "--eval-tokens",
            "256",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [r["method"] for r in data["blocks"]["rows"]] == ["original", "shortgpt", "sleb", "mi", "fusegpt"]
    assert (tmp_path / "out" / "bench_compress.json").is_file()


@pytest.mark.slow
def test_quick_run_on_smollm2(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BENCH, "--suite", "blocks", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "| FuseGPT (MI + fusion + distillation) |" in result.output
