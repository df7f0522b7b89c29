"""The runner end to end on the shipped datasets (held-out routing split and the task suite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipcrew.cli import app
from eval.runner import run_eval


def test_routing_heldout_run_writes_cases_and_summary(tmp_path: Path) -> None:
    summary = run_eval("routing", tmp_path, backend="none", split="heldout", workers=1)
    rows = [json.loads(line) for line in (tmp_path / "cases.jsonl").read_text().splitlines()]
    assert len(rows) == summary["routing"]["n"] + summary["routing"]["skipped"] > 30
    assert all(r["split"] == "heldout" for r in rows)
    assert summary["accuracy"] == summary["routing"]["accuracy"] >= 0.9
    assert json.loads((tmp_path / "summary.json").read_text())["suite"] == "routing"


def test_report_gates_exit_non_zero(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps({"routing": {"accuracy": 0.8}}))
    runner = CliRunner()
    ok = runner.invoke(app, ["eval", "report", str(tmp_path), "--fail-under", "routing.accuracy=0.7"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["eval", "report", str(tmp_path), "--fail-under", "routing.accuracy=0.9"])
    assert bad.exit_code == 1 and "under" in bad.output


def test_task_suite_runs_the_agents_end_to_end(tmp_path: Path) -> None:
    summary = run_eval("tasks", tmp_path, backend="none", workers=1)
    assert summary["tasks"]["n"] >= 3
    assert summary["tasks"]["success_rate"] == 1.0
    assert summary["tasks"]["trajectory_accuracy"] == 1.0


def test_ray_executor_on_a_local_instance(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = run_eval("tools", tmp_path, backend="none", split="heldout", workers=1, executor="ray")
    finally:
        ray.shutdown()
    assert summary["tools"]["n"] >= 3 and summary["tools"]["call_accuracy"] == 1.0
