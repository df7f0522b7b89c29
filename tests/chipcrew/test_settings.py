from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from agents.base import ToolSpec
from chipcrew.settings import Settings
from tools.common import (
    PROJECT_ROOT,
    DataNotFoundError,
    current_context,
    run_dir,
    shared_data_dir,
    user_cache_dir,
    user_data_dir,
)


def test_defaults_are_the_embedded_offline_backend() -> None:
    s = Settings()
    assert s.llm_backend == "embedded" and not s.llm_capable


def test_base_url_alone_switches_to_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPCREW_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    s = Settings()
    assert s.llm_backend == "openai" and s.llm_capable


def test_explicit_backend_wins_over_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPCREW_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert Settings(llm_backend="none").llm_backend == "none"


def test_toml_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('llm_backend = "none"\nllm_timeout_s = 5\n')
    monkeypatch.setenv("CHIPCREW_CONFIG", str(cfg))
    s = Settings()
    assert (s.llm_backend, s.llm_timeout_s) == ("none", 5)


def test_bad_backend_names_field_and_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPCREW_LLM_BACKEND", "gpt")
    with pytest.raises(ValidationError, match=r"llm_backend[\s\S]*'embedded', 'openai' or 'none'"):
        Settings()


def _probe_tool() -> tuple[ToolSpec, list[dict[str, object]]]:
    """A tool that records where it would write and read, as a real tool finds those places."""
    seen: list[dict[str, object]] = []

    class ProbeArgs(BaseModel):
        sub: str = "iccad13"
        qdrant: bool = False

    def run(args: ProbeArgs, progress=None) -> BaseModel:
        from tools.docqa.index import open_client

        seen.append({"run_dir": run_dir(None, "probe"), "cache": user_cache_dir(), "shared": shared_data_dir(args.sub),
                     "qdrant": open_client() if args.qdrant else None, "context": current_context()})
        return args

    return ToolSpec("probe", "records its context", ProbeArgs, run), seen


def test_keyword_and_toml_settings_reach_a_tool_through_its_context_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data" / "iccad13").mkdir(parents=True)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'qdrant_url = "http://127.0.0.1:9"\nshared_data = "{tmp_path / "data"}"\n')
    monkeypatch.setenv("CHIPCREW_CONFIG", str(cfg))
    for var in ("CHIPCREW_SHARED_DATA", "CHIPCREW_QDRANT_URL"):  # the environment outranks the TOML file
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("qdrant_client.QdrantClient", lambda **kwargs: kwargs)  # records, connects nowhere
    monkeypatch.setattr("tools.docqa.index._CLIENTS", {})
    env_before = dict(os.environ)
    s = Settings(home=tmp_path / "h", cache_dir=tmp_path / "c")
    spec, seen = _probe_tool()
    spec.invoke({"qdrant": True}, ctx=s.run_context())
    got = seen[0]
    assert tmp_path / "h" / "runs" in got["run_dir"].parents and got["cache"] == tmp_path / "c"
    assert got["shared"] == tmp_path / "data" / "iccad13" and got["qdrant"] == {"url": "http://127.0.0.1:9"}
    assert dict(os.environ) == env_before  # nothing was published through the environment
    assert user_data_dir() == Path(os.environ["CHIPCREW_HOME"])  # and the context ended with the call


def test_a_tool_run_in_a_worker_thread_sees_the_context_it_was_given(tmp_path: Path) -> None:
    (tmp_path / "d" / "iccad13").mkdir(parents=True)
    ctx = Settings(home=tmp_path / "h", shared_data=tmp_path / "d").run_context()
    spec, seen = _probe_tool()
    with ThreadPoolExecutor(max_workers=2) as pool:
        pool.submit(spec.invoke, {}, ctx=ctx).result()
        outside = pool.submit(current_context).result()
    assert seen[0]["context"] == ctx and tmp_path / "h" in seen[0]["run_dir"].parents
    assert outside.home == Path(os.environ["CHIPCREW_HOME"])  # a thread without the context gets the defaults


def test_a_deterministic_planner_runs_in_the_settings_context(tmp_path: Path) -> None:
    """Planners may look at data (which via clips exist), so they see the settings' folders too."""
    from agents.base import AgentSpec, ToolCall
    from graphs.supervisor import Runtime, plan_call

    seen = []

    def plan(request: str) -> ToolCall:
        seen.append(current_context())
        return ToolCall(tool="probe")

    spec = AgentSpec("probe", "records its context", (), (), (), plan, lambda call, result: "", "probe")
    settings = Settings(llm_backend="none", shared_data=tmp_path / "d")
    assert plan_call(Runtime(settings, {}, None, None), spec, "anything") == (ToolCall(tool="probe"), "deterministic")
    assert seen[0] == settings.run_context()


def test_shared_data_is_a_setting_with_the_documented_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHIPCREW_SHARED_DATA", raising=False)
    assert Settings().shared_data == PROJECT_ROOT.parent / "shared" / "data"
    monkeypatch.setenv("CHIPCREW_SHARED_DATA", str(tmp_path / "env"))
    assert Settings().shared_data == tmp_path / "env"
    assert Settings(shared_data=tmp_path / "kw").run_context().shared_data == tmp_path / "kw"


def test_missing_shared_data_says_where_to_put_it(tmp_path: Path) -> None:
    spec, _ = _probe_tool()
    ctx = Settings(shared_data=tmp_path / "nowhere").run_context()
    with pytest.raises(DataNotFoundError) as err:
        spec.invoke({"sub": "iccad13"}, ctx=ctx)
    message = str(err.value)
    assert f"not found at {tmp_path / 'nowhere' / 'iccad13'}" in message
    assert "CHIPCREW_SHARED_DATA" in message and "shared_data in the config file" in message


def test_a_tool_run_through_the_app_writes_under_the_configured_home(tmp_path: Path) -> None:
    from chipcrew.app import ChipCrew

    home = tmp_path / "configured"
    turn = ChipCrew(Settings(llm_backend="none", home=home)).ask("optimize aes_via1__217_754 with model-based OPC for 3 iterations")
    paths = [Path(p) for p in turn.result["artifacts"].values()]
    assert paths and all(home in p.parents for p in paths)


def test_toml_qdrant_url_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('qdrant_url = "http://qdrant:6333"\n')
    monkeypatch.setenv("CHIPCREW_CONFIG", str(cfg))
    assert Settings().qdrant_url == "http://qdrant:6333"
