"""``chipcrew serve`` speaks OpenAI's wire format, errors included."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest


def _post(url: str, body: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url + "/chat/completions", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_models_lists_the_embedded_model(llm_server: str) -> None:
    with urllib.request.urlopen(llm_server + "/models", timeout=10) as resp:
        data = json.loads(resp.read())
    assert [m["id"] for m in data["data"]] == ["SmolLM2-135M-Instruct"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [(b"{oops", "Expecting property name"), (b'{"messages": []}', "messages: must be a non-empty list")],
)
def test_bad_requests_get_openai_style_400(llm_server: str, body: bytes, needle: str) -> None:
    status, payload = _post(llm_server, body)
    assert status == 400
    assert needle in payload["error"]["message"]
    assert payload["error"]["type"] == "invalid_request_error"
