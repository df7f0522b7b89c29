"""The CLI in-process (typer's CliRunner) plus a few real subprocess runs: output shapes, errors, start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from chipcrew.cli import app

runner = CliRunner()
MIXPE_ARGS = '{"model": "OPT-6.7B", "weight_bits": 4}'


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
    out = json.loads(res.stdout)
    assert out["agent"] == "hardware_architect"
    assert out["tool_calls"][0]["args"]["model"] == "LLaMA-2-13B"


def test_ask_prints_the_answer_and_nothing_on_stderr() -> None:
    res = runner.invoke(app, ["ask", "How much faster is W4A16 than FP16 on LLaMA-2-13B?", "--backend", "none"])
    assert res.exit_code == 0, res.output
    assert "LLaMA-2-13B" in res.stdout and "mixpe_perf.json" in res.stdout
    assert res.stderr == ""  # no routing chatter, and no progress bar without a terminal


def test_verbose_adds_the_routing_decision_on_stderr() -> None:
    args = ["--verbose", "ask", "How much faster is W4A16 than FP16 on LLaMA-2-13B?", "--backend", "none"]
    res = runner.invoke(app, args, env={"CHIPCREW_VERBOSE": "0"})  # the runner restores the variable afterwards
    assert res.exit_code == 0, res.output
    assert res.stderr.strip() == "[hardware_architect via semantic]" and "LLaMA-2-13B" in res.stdout


def test_tool_runs_a_tool_that_reports_progress() -> None:
    # the README's example; it crashed when the bar took one event dict and the tool reported (message, fraction)
    res = runner.invoke(app, ["tool", "mixpe_perf", "--args", MIXPE_ARGS])
    assert res.exit_code == 0, res.output
    assert "OPT-6.7B" in res.stdout and "MixPE-W4A8" in res.stdout


@pytest.mark.parametrize(
    ("args", "field", "accepted"),
    [
        (["tool", "mixpe_perf", "--args", "{model: OPT}"], "--args", "a JSON object"),
        (["tool", "mixpe_perf", "--args", "[1, 2]"], "--args", "a JSON object"),
        (["tool", "mixpe_turbo"], "tool", "mixpe_perf"),
        (["tool", "mixpe_perf", "--args", '{"weight_bits": 3}'], "weight_bits", "4 or 8"),
        (["tool", "mixpe_perf", "--args", '{"modle": "OPT-6.7B"}'], "modle", "model, designs"),
        (["tool", "mixpe_perf", "--args", '{"activation": "int4"}'], "activation", "'int8' or 'fp16'"),
        (["ask", "hello", "--backend", "llama"], "--backend", "embedded, openai, none"),
        (["route", "hello", "--backend", "llama"], "--backend", "embedded, openai, none"),
        (["serve", "--backend", "openai"], "--backend", "embedded or none"),
        (["agents", "--yaml"], "--yaml", "--json"),
        (["bench", "opc", "--out", "x", "--device", "tpu"], "--device", "auto, cpu, cuda"),
        (["eval", "run", "--split", "train"], "--split", "dev, heldout, all"),
        (["frobnicate"], "command", "ask, chat, route"),
        (["bench", "nope"], "command", "startup, router"),
    ],
)
def test_a_user_error_is_one_line_naming_field_and_accepted_values(args: list[str], field: str, accepted: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"error: {field}: ") and "(accepted: " in line and accepted in line
    assert "Traceback" not in res.output


def test_an_internal_error_says_so_and_names_the_run_folder(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import eval.bench_mixpe

    def broken(*args: object, **kwargs: object) -> dict:
        raise RuntimeError("the perf model fell over")

    monkeypatch.setattr(eval.bench_mixpe, "run_bench", broken)
    res = runner.invoke(app, ["bench", "mixpe", "--out", str(tmp_path)])
    assert res.exit_code == 1
    (line,) = res.stderr.splitlines()
    assert line.startswith("internal error: RuntimeError: the perf model fell over (run folder: ")
    assert str(tmp_path) in line and "--debug" in line


def test_debug_lets_the_exception_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import agents

    def broken() -> dict:
        raise RuntimeError("registry down")

    monkeypatch.setattr(agents, "registry", broken)
    quiet = runner.invoke(app, ["agents"])
    assert quiet.exit_code == 1 and quiet.stderr.startswith("internal error: RuntimeError: registry down (run with --debug")
    loud = runner.invoke(app, ["--debug", "agents"])
    assert isinstance(loud.exception, RuntimeError) and "internal error" not in loud.output


def test_debug_prints_the_traceback_of_a_user_error() -> None:
    cmd = [sys.executable, "-m", "chipcrew.cli", "--debug", "tool", "mixpe_perf", "--args", '{"weight_bits": 3}']
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "weight_bits" in proc.stderr


def test_console_script_help_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "chipcrew.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "ask" in proc.stdout and "route" in proc.stdout and "bench" in proc.stdout


HEAVY = ("torch", "transformers", "qdrant_client", "botorch", "tools.litho", "tools.docqa", "eval")


def test_help_imports_no_method_code() -> None:
    code = (
        "import sys\n"
        "from chipcrew.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith({HEAVY!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_each_lazy_help_line_is_the_commands_own() -> None:
    from chipcrew.cli import _Root
    from chipcrew.commands.bench import COMMANDS
    from chipcrew.commands.lazy import load

    for table in (_Root.lazy, COMMANDS):
        for name, entry in table.items():
            command = load(entry.target, name)
            assert (command.help or "").strip().splitlines()[0] == entry.help, name


def test_every_registered_benchmark_has_a_bench_command() -> None:
    from chipcrew.commands.bench import COMMANDS
    from eval.benchmarks import benchmarks

    assert set(benchmarks()) <= set(COMMANDS)


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
