"""The LLM adapters: what each hands to a tool or benchmark, with the shipped prompt templates."""

from __future__ import annotations

import json
from typing import Any

from chipcrew.llm.adapters import judge_answer, llana_prompts, prompt_fn, relevance_teacher
from chipcrew.llm.base import ChatReply, LLMResponseError, Message
from prompts import load_prompt


class RecordingClient:
    """An LLMClient with scripted replies that records every call."""

    name = "recording"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[list[Message], dict[str, Any] | None, int | None]] = []

    def chat(self, messages: list[Message], *, json_schema=None, tools=None, max_tokens=None) -> ChatReply:
        self.calls.append((messages, json_schema, max_tokens))
        reply = self.replies.pop(0)
        if reply == "raise":
            raise LLMResponseError("HTTP 500")
        return ChatReply(content=reply)


def test_prompt_fn_passes_schema_and_sizes_replies() -> None:
    client = RecordingClient('{"score": -0.14}', "{}", "{}")
    ask = prompt_fn(client)
    assert ask("predict", schema={"properties": {"score": {}}}) == '{"score": -0.14}'
    ask("propose", schema={"properties": {"TAIL": {}}})
    ask("narrow", schema={"properties": {"ranges": {}, "ties": {}}})
    assert [tokens for _, _, tokens in client.calls] == [32, 384, 1024]
    assert client.calls[0][1] == {"properties": {"score": {}}} and client.calls[0][0][0].content == "predict"
    assert prompt_fn(None) is None
    assert prompt_fn(type("NoneClient", (), {"name": "none"})()) is None


def test_llana_prompts_are_the_shipped_templates() -> None:
    p = llana_prompts()
    assert (p.candidate, p.surrogate, p.constraint) == tuple(
        load_prompt(f"llana_{kind}") for kind in ("candidate", "surrogate", "constraint")
    )
    assert "{examples}" in p.candidate and "{configuration}" in p.surrogate and "{names}" in p.constraint


def test_relevance_teacher_scores_each_text_with_the_rubric() -> None:
    client = RecordingClient('{"score": 80}', '{"score": 0}')
    scores = relevance_teacher(client)("what does gpl do?", ["global placement", "a recipe for soup"])
    assert scores == [80.0, 0.0]
    messages, schema, _ = client.calls[1]
    assert messages[0].content == load_prompt("docqa_relevance") and "a recipe for soup" in messages[1].content
    assert schema["properties"]["score"]["enum"] == [0, 20, 40, 60, 80, 100]


def test_judge_answer_grades_or_says_why_it_could_not() -> None:
    client = RecordingClient(json.dumps({"score": 4, "reason": "specific"}), "raise", "not json")
    assert judge_answer(client, "How fast?", "2.6x") == {"judge_score": 4, "judge_reason": "specific"}
    messages, schema, tokens = client.calls[0]
    assert messages[0].content == load_prompt("judge") and "Request: How fast?" in messages[1].content
    assert schema["required"] == ["score", "reason"] and tokens == 120
    assert "HTTP 500" in judge_answer(client, "q", "a")["judge_error"]
    assert "judge_error" in judge_answer(client, "q", "a")


def test_judge_answer_over_a_loopback_openai_server(llm_server: str) -> None:
    from chipcrew.llm import make_client
    from chipcrew.settings import Settings

    client = make_client(Settings(llm_backend="openai", openai_base_url=llm_server, llm_max_tokens=64))
    verdict = judge_answer(client, "How much faster is W4A16 than FP16 on LLaMA-2-13B?", "About 2.6x faster.")
    assert 1 <= verdict["judge_score"] <= 5  # the schema bounds are enforced by the server's grammar
