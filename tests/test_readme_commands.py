"""Every ``chipcrew`` command the README shows runs: exit 0, no traceback.

Each README line is run as a whole process with the template backend, a private data folder and, where the README's
own input would take minutes, the same sub-command on a small input (``SMALL``). A README line missing from the
table fails the test, so a new command cannot enter the README untested.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "chipcrew.cli"]

# README command (as written, without `.venv/bin/` and the trailing comment) -> what the test runs instead of its
# arguments. `{tmp}` is the test's folder. Reasons for each substitution are on its line.
SMALL: dict[str, str] = {
    'chipcrew ask "How much faster is W4A16 than FP16 on LLaMA-2-13B?"': "",
    'chipcrew ask "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?" --json': "",
    "chipcrew chat --session mixpe": "",  # driven through stdin, see test_chat_session_survives_a_restart
    "chipcrew route \"what's the weather tomorrow\" --json": "",
    "chipcrew agents --json": "",
    "chipcrew tool mixpe_perf --args '{\"model\": \"OPT-6.7B\", \"weight_bits\": 4}'": "",
    "chipcrew serve --port 8000": "",  # started on a free port, see test_serve_answers_on_loopback
    "chipcrew web": "",  # started on a free port, see test_web_serves_the_workspace_on_loopback
    # the routing suite of the same runner: `--suite all` also runs every tool end to end (minutes)
    "chipcrew eval run --suite all --out runs/eval-a": "eval run --suite routing --split dev --out {tmp}/eval-a",
    "chipcrew eval run --suite routing --split heldout --out runs/r --fail-under routing.accuracy=0.95": (
        "eval run --suite routing --split heldout --out {tmp}/r --fail-under routing.accuracy=0.95"
    ),
    # the endpoint is this project's own OpenAI-compatible server on loopback (the `serve` line above)
    "chipcrew eval run --backend openai --out runs/eval-b": (
        "eval run --backend openai --suite routing --split dev --out {tmp}/eval-b"
    ),
    "chipcrew eval report runs/eval-a runs/eval-b": "eval report {tmp}/eval-a {tmp}/eval-b",
    "chipcrew eval validate": "",
    "chipcrew bench list": "",
    # one cheap benchmark through the same report writer
    "chipcrew bench all --quick --out runs/bench": "bench all --quick --only mixpe --out {tmp}/bench",
    # ~20 min in full and still ~2 min in its quick preset (load, score, fuse, evaluate SmolLM2): slow test only,
    # where it runs with --quick; tests/eval/test_bench_compress.py covers the command's code path by default
    "chipcrew bench compress --suite blocks --out runs/cmp --json": None,
    # builds the ORD-QA indexes and trains the embedder and reranker when missing: ~10 min even lexical-only on a
    # loaded 2-core machine, so slow only; tests/eval/test_bench_docqa.py covers its code path by default
    "chipcrew bench docqa --suite ord-qa --out runs/dq --json": None,
    "chipcrew bench dev-docqa --out runs/dev": None,  # the dev grid fine-tunes embedders (tens of minutes): slow only
    "chipcrew bench startup --out runs/startup": "",  # exits 1 over a time budget: see test_startup_bench_runs
    "chipcrew bench web --out runs/web": "bench web --quick --out {tmp}/web",  # 5 sessions x 3 turns, 3 page loads
    "chipcrew bench llm --out runs/llm": "bench llm --quick --out {tmp}/llm",  # 2 system prompts, 8-token replies
}
SLOW_ONLY = [cmd for cmd, small in SMALL.items() if small is None]


def readme_commands() -> list[str]:
    """The ``chipcrew`` command lines in the README's bash blocks, as written (prefix and comments dropped)."""
    text = (ROOT / "README.md").read_text()
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            found = re.search(r"(?:\.venv/bin/)?(chipcrew\s.*)$", line)
            if found and not line.startswith(("make", "export", "vllm")):
                out.append(found.group(1).strip())
    return out


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CHIPCREW_LLM_BACKEND": "none", "CHIPCREW_HOME": str(tmp / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("CHIPCREW_OPENAI_BASE_URL", None)
    env.update(extra)
    return env


def _run(args: list[str], tmp: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        CLI + args, cwd=tmp, env=_env(tmp, **env), input=stdin, capture_output=True, text=True, timeout=900
    )
    assert "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    assert res.returncode == 0, f"{args}: exit {res.returncode}\n{res.stderr[-3000:]}"
    return res


def test_every_readme_command_has_a_small_run() -> None:
    commands = readme_commands()
    assert len(commands) >= 15, commands
    missing = [c for c in commands if c not in SMALL]
    assert not missing, f"README commands without a run in SMALL: {missing}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``chipcrew serve`` (the embedded model, as in the README) on a free loopback port."""
    tmp = tmp_path_factory.mktemp("serve")
    proc = subprocess.Popen(
        CLI + ["serve", "--port", "0", "--backend", "embedded"], cwd=tmp, env=_env(tmp), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/v1", line)
    assert found, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
    yield f"http://127.0.0.1:{found.group(1)}/v1"
    proc.terminate()
    proc.wait(timeout=30)


def test_serve_answers_on_loopback(server: str) -> None:
    with urllib.request.urlopen(f"{server}/models", timeout=30) as reply:
        models = json.load(reply)
    assert models["data"], models
    body = json.dumps({"model": models["data"][0]["id"], "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}).encode()
    request = urllib.request.Request(f"{server}/chat/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        assert json.load(reply)["choices"][0]["message"]["role"] == "assistant"


def test_startup_bench_runs(tmp_path: Path) -> None:
    """`chipcrew bench startup` times every probe and writes its table. Its exit code gates on wall-clock budgets
    (1 when one is over), which a loaded test machine can miss, so this test accepts exit 1 only as a budget miss
    that the JSON shows; a probe that crashed fails it either way."""
    res = subprocess.run(
        CLI + ["bench", "startup", "--quick", "--runs", "1", "--out", str(tmp_path / "startup")], cwd=tmp_path,
        env=_env(tmp_path), capture_output=True, text=True, timeout=900,
    )
    assert "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    rows = json.loads((tmp_path / "startup" / "bench_startup.json").read_text())["rows"]
    assert len(rows) >= 4 and all(r["error"] is None for r in rows), rows
    over = [r["command"] for r in rows if r["budget_s"] is not None and r["median_s"] > r["budget_s"]]
    assert res.returncode == (1 if over else 0), (res.returncode, over, res.stderr[-3000:])


def test_chat_session_survives_a_restart(tmp_path: Path) -> None:
    question = "How much faster is W4A16 than FP16 on LLaMA-2-13B?"
    first = _run(["chat", "--session", "mixpe"], tmp_path, stdin=f"{question}\n/quit\n")
    assert "crew>" in first.stdout and "LLaMA-2-13B" in first.stdout
    again = _run(["chat", "--session", "mixpe"], tmp_path, stdin="/history\n/quit\n")
    assert "earlier messages" in again.stdout and question in again.stdout


def test_web_serves_the_workspace_on_loopback(tmp_path: Path) -> None:
    """`chipcrew web` as the README shows it, on a free port: the page, the API, then a clean stop."""
    proc = subprocess.Popen(CLI + ["web", "--port", "0"], cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line + (proc.stderr.read() if proc.poll() is not None else "")
        with urllib.request.urlopen(found.group(0), timeout=30) as page:
            assert b"workspace.js" in page.read()
        with urllib.request.urlopen(f"{found.group(0)}api/sessions", timeout=30) as reply:
            assert json.load(reply) == []
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert proc.returncode in (0, -15) and "Traceback" not in (proc.stderr.read() if proc.stderr else "")


RUNNABLE = [c for c in SMALL if c not in SLOW_ONLY and not c.startswith(("chipcrew chat", "chipcrew serve", "chipcrew web", "chipcrew bench startup"))]


@pytest.mark.parametrize("command", RUNNABLE)
def test_readme_command_runs(command: str, tmp_path: Path, server: str) -> None:
    small = SMALL[command] or command.removeprefix("chipcrew ")
    args = shlex.split(small.replace("{tmp}", str(tmp_path)))
    env = {"CHIPCREW_OPENAI_BASE_URL": server, "CHIPCREW_LLM_BACKEND": "openai"} if "openai" in args else {}
    if args[:2] == ["eval", "report"]:  # compares two earlier runs: make them first
        _run(["eval", "run", "--suite", "routing", "--split", "dev", "--out", f"{tmp_path}/eval-a"], tmp_path)
        _run(["eval", "run", "--suite", "routing", "--split", "dev", "--out", f"{tmp_path}/eval-b"], tmp_path)
    start = time.perf_counter()
    res = _run(args, tmp_path, **env)
    assert res.stdout.strip(), f"{command} printed nothing"
    if "--json" in args and args[0] != "eval":
        json.loads(res.stdout)
    print(f"{command}: {time.perf_counter() - start:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("command", SLOW_ONLY)
def test_slow_readme_command_runs(command: str, tmp_path: Path) -> None:
    args = shlex.split(command.removeprefix("chipcrew ").replace("runs/", f"{tmp_path}/"))
    _run(args + (["--quick"] if args[:2] == ["bench", "compress"] else []), tmp_path)
