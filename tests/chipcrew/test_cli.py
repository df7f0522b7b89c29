"""The CLI in-process (typer's CliRunner) plus one real subprocess run."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from chipcrew.cli import app

runner = CliRunner()


def test_agents_json_lists_tools_with_schemas() -> None:
    res = runner.invoke(app, ["agents", "--json"])
    assert res.exit_code == 0, res.output
    agents = {a["name"]: a for a in json.loads(res.output)}
    tools = {t["name"]: t for t in agents["hardware_architect"]["tools"]}
    assert "mixpe_perf" in tools and "properties" in tools["mixpe_perf"]["args_schema"]


def test_route_json_for_out_of_scope_is_null() -> None:
    res = runner.invoke(app, ["route", "what's the weather tomorrow", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["agent"] is None and set(out) == {"agent", "tier", "scores"}


def test_ask_json_has_the_documented_shape() -> None:
    res = runner.invoke(
        app, ["ask", "How much faster is W4A16 than FP16 on LLaMA-2-13B?", "--json", "--backend", "none"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{") :])
    assert out["agent"] == "hardware_architect"
    assert out["tool_calls"][0]["args"]["model"] == "LLaMA-2-13B"


def test_tool_with_malformed_args_names_the_field() -> None:
    res = runner.invoke(app, ["tool", "mixpe_perf", "--args", '{"weight_bits": 3}'])
    assert res.exit_code == 2
    assert "weight_bits" in res.output and "Input should be" in res.output


def test_unknown_tool_lists_the_registered_ones() -> None:
    res = runner.invoke(app, ["tool", "mixpe_turbo"])
    assert res.exit_code == 2 and "mixpe_perf" in res.output


def test_tool_args_must_be_json() -> None:
    res = runner.invoke(app, ["tool", "mixpe_perf", "--args", "{model: OPT}"])
    assert res.exit_code == 2 and "not valid JSON" in res.output


def test_console_script_help_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "chipcrew.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "ask" in proc.stdout and "route" in proc.stdout


def test_chat_session_continues_after_a_restart() -> None:
    first = runner.invoke(
        app, ["chat", "--session", "s1", "--backend", "none"], input="How much faster is W4A16 than FP16 on ViT-Base?\n/quit\n"
    )
    assert first.exit_code == 0, first.output
    assert "crew> " in first.output and "ViT-Base" in first.output
    second = runner.invoke(app, ["chat", "--session", "s1", "--backend", "none"], input="/history\n/quit\n")
    assert second.exit_code == 0, second.output
    assert "2 earlier messages" in second.output
    assert "user> How much faster is W4A16 than FP16 on ViT-Base?" in second.output
