from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipcrew.cli import app
from eval.benchmarks import benchmarks, run_all
from tools.common import InputError


def test_every_registered_benchmark_follows_the_protocol() -> None:
    for name, mod in benchmarks().items():
        assert mod.NAME == name and mod.DESCRIPTION
        assert callable(mod.run_bench) and callable(mod.to_markdown)


def test_run_all_writes_one_report(tmp_path: Path) -> None:
    report = run_all(tmp_path, quick=True, only=["mixpe", "router"])
    assert all(e["ok"] for e in report["benchmarks"].values())
    md = (tmp_path / "report.md").read_text()
    assert "## mixpe" in md and "## router" in md and "Paper abstract" in md
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["benchmarks"]["router"]["result"]["accuracy"] >= 0.9


def test_unknown_benchmark_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="mixpe"):
        run_all(tmp_path, only=["nope"])


def test_bench_list_cli() -> None:
    res = CliRunner().invoke(app, ["bench", "list", "--json"])
    assert res.exit_code == 0 and "litho" in json.loads(res.output)


def test_report_embeds_the_plots_a_benchmark_wrote(tmp_path: Path) -> None:
    from eval.benchmarks import _figures

    (tmp_path / "opc" / "case1").mkdir(parents=True)
    (tmp_path / "opc" / "case1" / "mask.png").write_bytes(b"\x89PNG")
    (tmp_path / "opc" / "table.json").write_text("{}")
    assert _figures(tmp_path, "opc") == ["![mask](opc/case1/mask.png)\n"]
    assert _figures(tmp_path, "router") == []
