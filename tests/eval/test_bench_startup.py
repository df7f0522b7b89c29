"""The start-up benchmark's protocol, timed on stand-in commands (real runs are `chipcrew bench startup`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eval.bench_startup import PROBES, run_bench, to_markdown


def test_every_probe_is_timed_beside_python_and_judged_by_its_budget(tmp_path: Path) -> None:
    result = run_bench(tmp_path, runs=2, chipcrew=[sys.executable, "-c", "pass"])
    rows = {r["command"]: r for r in result["rows"]}
    assert list(rows) == [p.label for p in PROBES] and "python -c pass" in rows
    assert all(len(r["seconds"]) == 2 and r["pass"] for r in rows.values())
    assert rows["chipcrew --help"]["budget_s"] == 0.5
    assert json.loads((tmp_path / "bench_startup.json").read_text())["all_pass"] is True
    assert "| chipcrew --help |" in to_markdown(result)


def test_a_command_that_fails_fails_its_row_whatever_its_time(tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"]
    result = run_bench(tmp_path, runs=1, chipcrew=failing)
    chipcrew_rows = [r for r in result["rows"] if r["budget_s"] is not None]
    assert not result["all_pass"] and all(not r["pass"] and r["error"] == "exit 3: boom" for r in chipcrew_rows)
    assert "FAIL: exit 3: boom" in to_markdown(result)
