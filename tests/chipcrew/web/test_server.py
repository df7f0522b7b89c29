"""The workspace's JSON API: sessions shared with the CLI, streamed turns, lost-nothing concurrency, uploads,
artefacts, the token. In process (FastAPI's TestClient) except where a real process or socket is the point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agents.base import ToolSpec
from chipcrew.app import ChipCrew
from chipcrew.settings import Settings
from chipcrew.web import check_binding
from chipcrew.web.server import create_app
from tools.common import InputError, shared_data_dir

from .conftest import MIXPE_QUESTION

ROOT = Path(__file__).resolve().parents[3]
OUT_OF_SCOPE = "what's the weather tomorrow"


@pytest.fixture(scope="module")
def client(web_app) -> Iterator[TestClient]:
    with TestClient(web_app) as c:
        yield c


def events(client: TestClient, url: str) -> list[tuple[str, dict]]:
    """Read a turn's server-sent events to the end: ``[(event, data)]``."""
    out, kind = [], None
    with client.stream("GET", url) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                out.append((kind, json.loads(line.removeprefix("data: "))))
    return out


def turn(client: TestClient, session: str, message: str) -> list[tuple[str, dict]]:
    started = client.post(f"/api/sessions/{session}/turns", json={"message": message})
    assert started.status_code == 202, started.text
    return events(client, started.json()["events"])


def test_a_turn_streams_route_tool_call_progress_answer_and_done(client: TestClient) -> None:
    got = turn(client, "stream", MIXPE_QUESTION)
    kinds = [k for k, _ in got]
    assert kinds[0] == "accepted" and kinds[-1] == "done" and "progress" in kinds
    assert kinds.index("route") < kinds.index("tool_call") < kinds.index("answer")
    data = dict(got)
    assert data["route"]["agent"] == "hardware_architect"
    assert data["tool_call"]["tool"] == "mixpe_perf" and data["tool_call"]["args"]["model"] == "OPT-6.7B"
    answer = data["answer"]
    assert "| design |" in answer["answer"]
    plot = next(a for a in answer["artifacts"] if a["image"])
    image = client.get(plot["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png" and image.content[:4] == b"\x89PNG"


def test_sessions_are_created_listed_renamed_and_deleted_with_their_history(client: TestClient) -> None:
    made = client.post("/api/sessions", json={})
    assert made.status_code == 201
    name = made.json()["name"]
    assert client.post("/api/sessions", json={"name": name}).status_code == 409
    turn(client, name, OUT_OF_SCOPE)
    assert client.patch(f"/api/sessions/{name}", json={"name": "renamed"}).status_code == 200
    names = [s["name"] for s in client.get("/api/sessions").json()]
    assert "renamed" in names and name not in names
    turns = client.get("/api/sessions/renamed/turns").json()["turns"]
    assert [t["request"] for t in turns] == [OUT_OF_SCOPE] and turns[0]["agent"] is None
    assert client.patch("/api/sessions/nobody", json={"name": "x"}).status_code == 404
    assert client.delete("/api/sessions/renamed").status_code == 204
    assert client.delete("/api/sessions/renamed").status_code == 404
    assert client.get("/api/sessions/renamed/turns").json()["turns"] == []


def test_a_browser_session_continues_in_the_cli_and_back(client: TestClient, web_settings: Settings) -> None:
    turn(client, "shared", OUT_OF_SCOPE)
    cli = ChipCrew(web_settings, session="shared")  # what `chipcrew chat --session shared` builds
    assert [m["content"] for m in cli.history() if m["role"] == "user"] == [OUT_OF_SCOPE]
    cli.ask(MIXPE_QUESTION)
    requests = [t["request"] for t in client.get("/api/sessions/shared/turns").json()["turns"]]
    assert requests == [OUT_OF_SCOPE, MIXPE_QUESTION]


def test_an_uncertain_request_asks_and_the_next_message_answers_the_question(client: TestClient) -> None:
    asked = dict(turn(client, "clarify", "can you estimate this for my chip?"))
    assert "hardware_architect" in asked["question"]["question"] and "answer" not in asked
    assert "hardware_architect" in client.get("/api/sessions/clarify/turns").json()["question"]
    answered = dict(turn(client, "clarify", "the hardware architect, for OPT-6.7B"))
    assert answered["route"]["router_tier"] == "clarify" and answered["tool_call"]["tool"] == "mixpe_perf"
    assert client.get("/api/sessions/clarify/turns").json()["question"] is None


def test_two_turns_posted_at_once_on_one_session_are_both_kept(client: TestClient, web_settings: Settings) -> None:
    questions = [MIXPE_QUESTION, "How much faster is W4A16 than FP16 on LLaMA-2-13B?"]
    started = [client.post("/api/sessions/race/turns", json={"message": q}).json() for q in questions]
    answers = [dict(events(client, s["events"])).get("answer") for s in started]
    assert all(answers), answers
    turns = client.get("/api/sessions/race/turns").json()["turns"]
    assert sorted(t["request"] for t in turns) == sorted(questions)
    history = ChipCrew(web_settings, session="race").history()
    assert sorted(m["content"] for m in history if m["role"] == "user") == sorted(questions) and len(history) == 4


def test_a_client_that_disconnects_mid_stream_leaves_the_turn_completed_and_stored(client: TestClient) -> None:
    started = client.post("/api/sessions/gone/turns", json={"message": MIXPE_QUESTION}).json()
    with client.stream("GET", started["events"]) as stream:
        next(stream.iter_lines())  # the first event, then the client goes away
    deadline = time.monotonic() + 60
    while not client.get(f"/api/turns/{started['turn']}").json()["done"] and time.monotonic() < deadline:
        time.sleep(0.1)
    turns = client.get("/api/sessions/gone/turns").json()["turns"]
    assert [t["request"] for t in turns] == [MIXPE_QUESTION] and "| design |" in turns[0]["answer"]


def test_a_tool_error_mid_turn_shows_in_the_chat_and_the_session_keeps_its_history(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    turn(client, "broken", OUT_OF_SCOPE)
    original = ToolSpec.invoke

    def failing(self: ToolSpec, *args, **kwargs):
        if self.name == "mixpe_perf":
            raise RuntimeError("solver diverged")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ToolSpec, "invoke", failing)
    got = dict(turn(client, "broken", MIXPE_QUESTION))
    assert "solver diverged" in got["error"]["message"] and "answer" not in got and "done" in got
    monkeypatch.setattr(ToolSpec, "invoke", original)
    assert dict(turn(client, "broken", MIXPE_QUESTION))["answer"]["agent"] == "hardware_architect"
    requests = [t["request"] for t in client.get("/api/sessions/broken/turns").json()["turns"]]
    assert requests == [OUT_OF_SCOPE, MIXPE_QUESTION]


def test_cli_asks_at_once_on_one_session_keep_both_turns(tmp_path: Path) -> None:
    """Two `chipcrew ask --session race` processes started together: the session lock keeps both turns."""
    env = {**os.environ, "CHIPCREW_LLM_BACKEND": "none", "CHIPCREW_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    questions = [MIXPE_QUESTION, "How much faster is W4A16 than FP16 on LLaMA-2-13B?"]
    procs = [subprocess.Popen([sys.executable, "-m", "chipcrew.cli", "ask", q, "--session", "race"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for q in questions]
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
    crew = ChipCrew(Settings(llm_backend="none", home=tmp_path / "home"), session="race")
    assert sorted(m["content"] for m in crew.history() if m["role"] == "user") == sorted(questions)
    assert len(crew.turns()) == 2


def _contact_clip() -> Path:
    return shared_data_dir("via") / "StdContact" / "AND2_X4__0_0.glp"


def test_an_upload_is_checked_by_content_and_stored_under_the_session_with_a_generated_name(
    client: TestClient, web_settings: Settings
) -> None:
    data = _contact_clip().read_bytes()
    reply = client.post("/api/sessions/up/uploads", files={"file": ("../../evil<script>.gds", data)})
    assert reply.status_code == 201, reply.text
    stored = Path(reply.json()["path"])
    assert reply.json()["kind"] == "glp" and reply.json()["name"] == "../../evil<script>.gds"
    assert stored.parent.parent.parent == web_settings.home.resolve() / "runs" and stored.name.startswith("clip-")
    assert stored.read_bytes() == data and str(stored) in reply.json()["request"]


def test_an_uploaded_gds_clip_is_optimised_on_its_layer(client: TestClient, tmp_path: Path) -> None:
    """A GDSII file (layer 7) goes through the proposed request to the OPC engineer and comes back as a mask."""
    import gdstk

    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("TOP")
    for x in (0.0, 0.2, 0.4):  # three 70 nm contacts, 200 nm pitch
        cell.add(gdstk.rectangle((x, 0.0), (x + 0.07, 0.07), layer=7))
    lib.write_gds(tmp_path / "contacts.gds")
    reply = client.post("/api/sessions/gds/uploads", files={"file": ("contacts.gds", (tmp_path / "contacts.gds").read_bytes())})
    assert reply.status_code == 201, reply.text
    assert reply.json()["kind"] == "gds" and reply.json()["layers"] == [[7, 0]]
    got = dict(turn(client, "gds", reply.json()["request"]))
    assert got["tool_call"]["tool"] == "opc_optimize" and got["tool_call"]["args"]["layer"] == 7, got
    assert any(a["label"] == "mask_png" for a in got["answer"]["artifacts"])


def test_a_damaged_gds_named_in_a_message_is_a_clear_chat_answer(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "damaged.gds").write_bytes(b"\x00\x06\x00\x02\x02X\x00\x1ctruncated")
    got = dict(turn(client, "damaged", f"optimize {tmp_path / 'damaged.gds'} on layer 1 with DiffOPC"))
    assert "error" not in got and "readable GDSII" in got["answer"]["answer"] and "damaged.gds" in got["answer"]["answer"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x00\x06\x00\x02\x02X\x00\x1cnot really a stream", "readable GDSII"),
        (b"%SEMI-OASIS\r\n\x01garbage", "readable OASIS"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "checked by content"),
        (b"<script>alert(1)</script>", "checked by content"),
        (b"PGON N M1 0 0 0 x 10 10\n", "readable .glp"),
    ],
)
def test_a_bad_upload_is_a_clear_400_and_leaves_nothing(
    client: TestClient, web_settings: Settings, content: bytes, says: str
) -> None:
    folder = web_settings.home / "runs"
    before = set(folder.rglob("clip-*")) if folder.exists() else set()
    reply = client.post("/api/sessions/bad/uploads", files={"file": ("clip.gds", content)})
    assert reply.status_code == 400 and says in reply.json()["detail"] and "clip.gds" in reply.json()["detail"]
    assert set(folder.rglob("clip-*")) == before


def test_an_upload_over_the_limit_is_refused(client: TestClient) -> None:
    reply = client.post("/api/sessions/big/uploads", files={"file": ("big.glp", b"RECT N M1 0 0 1 1\n" * 70_000)})
    assert reply.status_code == 413 and "1 MB" in reply.json()["detail"]


@pytest.mark.parametrize("path", ["../sessions.sqlite", "%2e%2e/sessions.sqlite", "..%2fsessions.sqlite", "/etc/passwd"])
def test_files_outside_the_run_folders_are_never_served(client: TestClient, path: str) -> None:
    assert client.get(f"/api/files/{path}").status_code == 404


def test_the_page_and_every_reply_carry_a_strict_content_security_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "workspace.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "default-src 'self'" in client.get("/api/sessions").headers["content-security-policy"]
    assert "/api/sessions/{name}/turns" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200 and "content-security-policy" not in client.get("/docs").headers


def test_with_a_token_every_request_must_present_it(web_settings: Settings, web_app) -> None:
    locked = create_app(web_settings.model_copy(update={"web_token": "s3cret"}), crew=web_app.state.runner.crew)
    with TestClient(locked) as c:
        assert c.get("/api/sessions").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/api/sessions", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/sessions", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        page = c.get("/?token=s3cret")
        assert page.status_code == 200 and "chipcrew_token" in page.headers["set-cookie"]
        assert c.get("/api/sessions").status_code == 200  # the page's later requests carry the cookie


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    check_binding("127.0.0.1", Settings())
    check_binding("::1", Settings())
    check_binding("0.0.0.0", Settings(web_token="t"))
    with pytest.raises(InputError, match="CHIPCREW_WEB_TOKEN"):
        check_binding("0.0.0.0", Settings())
    env = {**os.environ, "CHIPCREW_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CHIPCREW_WEB_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "chipcrew.cli", "web", "--host", "0.0.0.0", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.strip().startswith("error: --host") and len(done.stderr.strip().splitlines()) == 1
