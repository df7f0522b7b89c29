"""``chipcrew bench docqa`` and ``bench dev-docqa``: options and their choices; the runs are the benchmarks."""

from __future__ import annotations

from typer.testing import CliRunner

from chipcrew.cli import app

runner = CliRunner()


def test_help_lists_the_benchmark_options() -> None:
    result = runner.invoke(app, ["bench", "docqa", "--help"])
    assert result.exit_code == 0
    for option in ("--suite", "--retriever", "--embedder", "--rerank", "--no-rerank", "--out", "--json", "--teacher"):
        assert option in result.output


def test_a_bad_retriever_is_rejected_with_the_choices(tmp_path) -> None:
    result = runner.invoke(app, ["bench", "docqa", "--out", str(tmp_path), "--retriever", "colbert"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --retriever: 'colbert' is not accepted (accepted: dense, bm25, hybrid)"


def test_the_dev_grid_has_its_own_command() -> None:
    result = runner.invoke(app, ["bench", "dev-docqa", "--help"])
    assert result.exit_code == 0 and "--out" in result.output
