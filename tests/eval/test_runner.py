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


def test_tool_and_conversation_suites_score_every_case(tmp_path: Path) -> None:
    summary = run_eval("conversations", tmp_path / "conv", backend="none", split="dev", workers=1)
    rows = [json.loads(line) for line in (tmp_path / "conv" / "cases.jsonl").read_text().splitlines()]
    assert summary["conversations"]["n"] == len(rows) >= 10 and summary["conversations"]["error_rate"] == 0
    assert all(len(r["turns"]) >= 2 and all("tool_ok" in t for t in r["turns"]) for r in rows)
    assert summary["conversations"]["fully_right"] >= 0.9
    summary = run_eval("tools", tmp_path / "tools", backend="none", split="dev", workers=1)
    assert summary["tools"]["tool_accuracy"] >= 0.96 and summary["tools"]["arg_accuracy"] >= 0.95
    assert summary["tools"]["kinds"]["sign"]["refusal_accuracy"] == 1.0


def test_ray_executor_on_a_local_instance(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = run_eval("tools", tmp_path, backend="none", split="heldout", workers=1, executor="ray")
    finally:
        ray.shutdown()
    assert summary["tools"]["n"] >= 3 and summary["tools"]["call_accuracy"] == 1.0


def test_same_suites_run_against_a_loopback_openai_server(
    tmp_path: Path, llm_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIPCREW_OPENAI_BASE_URL", llm_server)
    monkeypatch.setenv("CHIPCREW_LLM_MAX_TOKENS", "96")
    import eval.runner

    # the first case of each suite: every suite's path through the endpoint, not the whole sets (each tool call and
    # each turn of a conversation asks the CPU-served model, 15-75 s a case on 2 cores)
    first = eval.runner.load_cases
    monkeypatch.setattr(eval.runner, "load_cases", lambda kind, split="all": first(kind, split)[:1])
    summary = run_eval("all", tmp_path, backend="openai", split="heldout", workers=1)
    assert summary["backend"] == "openai"
    assert set(summary) >= {"routing", "tools", "tasks", "conversations", "accuracy"}
    assert summary["routing"]["error_rate"] == 0.0
    rows = [json.loads(line) for line in (tmp_path / "cases.jsonl").read_text().splitlines()]
    assert any(r.get("planner") in ("llm", "deterministic") for r in rows if r["suite"] == "tools")


def test_a_crashing_case_is_recorded_with_its_traceback(settings_none) -> None:
    from eval import runner

    runner._init_worker(settings_none)
    row = runner._run_case("routing", {"id": "bad", "split": "dev", "expected_agent": None}, repeats=1)
    assert row["ok"] is False and row["error"].startswith("KeyError")
    assert "Traceback" in row["traceback"] and row["trials_ok"] == [False]


def test_workers_receive_the_settings_whole_not_the_environment(tmp_path: Path) -> None:
    """A keyword-only setting (no env var, no TOML) reaches the spawned worker: a router that accepts nothing below
    similarity 1.0 abstains where the default one routes."""
    from chipcrew.settings import Settings

    strict = Settings(router_min_score=1.0, router_margin=1.0)
    summary = run_eval("routing", tmp_path, backend="none", split="heldout", workers=1, settings=strict)
    assert summary["routing"]["tiers"].get("abstain", 0) > summary["routing"]["n"] / 2


def test_settings_survive_the_trip_to_a_worker(tmp_path: Path) -> None:
    import pickle

    from chipcrew.settings import Settings

    s = Settings(llm_backend="none", home=tmp_path / "h", shared_data=tmp_path / "d", router_margin=0.2)
    assert pickle.loads(pickle.dumps(s)) == s


def test_task_cases_of_one_agent_share_a_job_and_other_cases_stand_alone() -> None:
    from eval.runner import _jobs

    jobs = _jobs(("tools", "tasks"), "all")
    tasks = [cases for kind, cases in jobs if kind == "tasks"]
    assert all(len({c["agent"] for c in cases}) == 1 for cases in tasks)
    assert len(tasks) == len({cases[0]["agent"] for cases in tasks}) >= 5
    assert all(len(cases) == 1 for kind, cases in jobs if kind == "tools")
