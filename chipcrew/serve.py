"""``chipcrew serve``: an OpenAI-compatible HTTP server over a local backend (the embedded model by default).

It lets several processes share one loaded model, and it is the real server our ``openai`` client is tested
against. Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions`` (``response_format`` json_schema and
``tools`` honoured; no streaming). Errors come back in OpenAI's ``{"error": {...}}`` shape.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import ValidationError

from .llm.base import LLMClient, LLMError, Message

__all__ = ("make_server", "serve_in_thread")


def _completion(client: LLMClient, model: str, body: dict[str, Any]) -> dict[str, Any]:
    messages = [Message.model_validate(m) for m in body.get("messages", [])]
    if not messages:
        raise ValueError("messages: must be a non-empty list of {role, content}")
    schema = None
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = fmt.get("json_schema", {}).get("schema")
        if schema is None:
            raise ValueError("response_format.json_schema.schema: missing")
    elif fmt.get("type") == "json_object":
        schema = {"type": "object"}
    reply = client.chat(messages, json_schema=schema, tools=body.get("tools"), max_tokens=body.get("max_tokens"))
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for c in reply.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
        },
    }


def make_server(client: LLMClient, host: str = "127.0.0.1", port: int = 8000, model: str | None = None) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (port 0 picks a free one) answering with ``client``."""
    model_id = model or getattr(client, "model_id", client.name)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet by default
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, kind: str) -> None:
            self._send(status, {"error": {"message": message, "type": kind, "code": status}})

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": model_id, "object": "model", "owned_by": "chipcrew"}]})
            else:
                self._error(404, f"no route {self.path}; try /v1/models or /v1/chat/completions", "not_found")

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._error(404, f"no route {self.path}", "not_found")
                return
            try:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                self._send(200, _completion(client, model_id, body))
            except (json.JSONDecodeError, ValueError, ValidationError) as exc:
                self._error(400, str(exc), "invalid_request_error")
            except LLMError as exc:
                self._error(500, str(exc), "server_error")
            except Exception as exc:  # a bug in a backend must still answer the client, not drop the connection
                self._error(500, f"{type(exc).__name__}: {exc}", "server_error")

    return ThreadingHTTPServer((host, port), Handler)


def serve_in_thread(client: LLMClient, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start a server in a daemon thread; returns it and its ``/v1`` base URL. Call ``shutdown()`` to stop."""
    server = make_server(client, host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/v1"
