"""``chipcrew bench docqa``: options and their choices; the run itself is the benchmark (eval.bench_docqa)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from chipcrew.commands.bench_docqa import command

runner = CliRunner()
app = typer.Typer()
app.command("docqa")(command)
app.command("other")(lambda: None)  # two commands, so the sub-command name is required as in `chipcrew bench`


def test_help_lists_the_benchmark_options() -> None:
    result = runner.invoke(app, ["docqa", "--help"])
    assert result.exit_code == 0
    for option in ("--suite", "--retriever", "--embedder", "--rerank", "--no-rerank", "--out", "--json"):
        assert option in result.output


def test_a_bad_retriever_is_rejected_with_the_choices(tmp_path) -> None:
    result = runner.invoke(app, ["docqa", "--out", str(tmp_path), "--retriever", "colbert"])
    assert result.exit_code == 2
    assert "colbert" in result.output and "hybrid" in result.output
