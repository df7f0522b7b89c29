"""The ``openai`` backend against real HTTP servers on loopback: ours over SmolLM2, and misbehaving ones."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chipcrew.llm import LLMResponseError, LLMUnavailableError, Message
from chipcrew.llm.openai_backend import OpenAIClient

USER = [Message(role="user", content="Which animal is the best pet? Answer in JSON.")]


def test_plain_chat_round_trip(llm_server: str) -> None:
    client = OpenAIClient(llm_server, max_tokens=12)
    reply = client.chat([Message(role="user", content="Say hello.")])
    assert client.model == "SmolLM2-135M-Instruct"
    assert reply.content.strip()


def test_usage_counts_tokens_and_the_kept_prefix_over_the_wire(llm_server: str) -> None:
    """OpenAI's usage fields, filled by ``chipcrew serve``: the third call with one system prompt reads it from the
    kept prefix cache (``prompt_tokens_details.cached_tokens``)."""
    client = OpenAIClient(llm_server, max_tokens=4)
    messages = [Message(role="system", content="You are a terse mask-rule checker."), Message(role="user", content="Hi")]
    first, _, third = (client.chat(messages) for _ in range(3))
    assert first.prompt_tokens == third.prompt_tokens > 10 and 0 < first.completion_tokens <= 4
    assert first.cached_tokens == 0 < third.cached_tokens < third.prompt_tokens


def test_json_schema_constraint_really_applies(llm_server: str) -> None:
    # Labels the model would never produce unprompted: only an enforced grammar yields them.
    schema = {
        "type": "object",
        "properties": {"pick": {"type": "string", "enum": ["zq_unit_17", "xv_unit_42"]}},
        "required": ["pick"],
        "additionalProperties": False,
    }
    reply = OpenAIClient(llm_server).chat(USER, json_schema=schema)
    assert json.loads(reply.content)["pick"] in ("zq_unit_17", "xv_unit_42")


def test_unconstrained_reply_is_not_that_json(llm_server: str) -> None:
    """The control for the test above: without the schema the model does not emit the enum."""
    reply = OpenAIClient(llm_server, max_tokens=24).chat(USER)
    assert "zq_unit_17" not in reply.content and "xv_unit_42" not in reply.content


def test_tool_call_is_parsed(llm_server: str) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "mixpe_perf",
                "parameters": {
                    "type": "object",
                    "properties": {"model": {"type": "string", "enum": ["OPT-6.7B", "ViT-Base"]}},
                    "required": ["model"],
                },
            },
        }
    ]
    reply = OpenAIClient(llm_server).chat([Message(role="user", content="speed of OPT-6.7B")], tools=tools)
    assert reply.tool_calls[0].name == "mixpe_perf"
    assert reply.tool_calls[0].arguments["model"] in ("OPT-6.7B", "ViT-Base")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoint_down_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    client = OpenAIClient(url, model="m", timeout_s=2, max_retries=1)
    with pytest.raises(LLMUnavailableError, match="unreachable.*CHIPCREW_OPENAI_BASE_URL"):
        client.chat(USER)


class _Scripted(BaseHTTPRequestHandler):
    """Answers every POST with the server's (status, body, delay); counts requests."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        server = self.server
        server.hits += 1  # type: ignore[attr-defined]
        status, body, delay = server.script  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(delay)
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def scripted() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.hits = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def test_malformed_json_body_is_a_clear_error(scripted: ThreadingHTTPServer) -> None:
    scripted.script = (200, "{not json", 0.0)  # type: ignore[attr-defined]
    with pytest.raises(LLMResponseError, match="malformed"):
        OpenAIClient(_url(scripted), model="m", max_retries=0).chat(USER)


def test_schema_ignored_by_server_is_detected(scripted: ThreadingHTTPServer) -> None:
    body = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "sure!"}}]}
    scripted.script = (200, json.dumps(body), 0.0)  # type: ignore[attr-defined]
    with pytest.raises(LLMResponseError, match="ignored the JSON schema"):
        OpenAIClient(_url(scripted), model="m").chat(USER, json_schema={"type": "object"})


def test_server_errors_are_retried_then_reported(scripted: ThreadingHTTPServer) -> None:
    scripted.script = (503, json.dumps({"error": {"message": "overloaded"}}), 0.0)  # type: ignore[attr-defined]
    with pytest.raises(LLMResponseError, match="HTTP 503"):
        OpenAIClient(_url(scripted), model="m", max_retries=2).chat(USER)
    assert scripted.hits == 3  # type: ignore[attr-defined]  # first try + 2 retries with backoff


def test_timeout_is_reported_as_unavailable(scripted: ThreadingHTTPServer) -> None:
    scripted.script = (200, "{}", 1.5)  # type: ignore[attr-defined]
    with pytest.raises(LLMUnavailableError, match="timed out"):
        OpenAIClient(_url(scripted), model="m", timeout_s=0.3, max_retries=0).chat(USER)


def test_tool_schemas_with_shared_definitions_are_enforced(llm_server: str) -> None:
    """pydantic puts nested models under $defs; the combined tool schema must keep those references valid."""
    params = {
        "type": "object",
        "$defs": {"Shape": {"type": "object", "properties": {"m": {"type": "integer", "enum": [8, 16]}}, "required": ["m"]}},
        "properties": {"shape": {"$ref": "#/$defs/Shape"}},
        "required": ["shape"],
    }
    tools = [{"type": "function", "function": {"name": "gemm", "parameters": params}}]
    reply = OpenAIClient(llm_server, max_tokens=48).chat([Message(role="user", content="gemm please")], tools=tools)
    assert reply.tool_calls[0].name == "gemm"
    assert reply.tool_calls[0].arguments["shape"]["m"] in (8, 16)
