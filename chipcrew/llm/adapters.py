"""The configured LLM turned into the plain callables that tools and benchmarks take.

``tools/`` imports nothing above itself, so an LLM reaches a tool as a plain function with its prompt templates
as plain strings. These adapters are the one place that builds such functions from an :class:`LLMClient` and the
``prompts/`` templates: LLANA's ``PromptFn``, RAG-EDA's relevance teacher, the OPC recipe summary's writer and
the eval judge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prompts import load_prompt

from .base import LLMClient, LLMError, Message

if TYPE_CHECKING:
    from tools.analog.llana import LLANAPrompts, PromptFn
    from tools.docqa.rerank import Teacher
    from tools.opc.recipe_summary import SummaryLLM

__all__ = (
    "prompt_fn",
    "llana_prompts",
    "relevance_teacher",
    "recipe_summary_llm",
    "judge_answer",
    "JUDGE_SCHEMA",
    "RELEVANCE_SCHEMA",
)

JUDGE_SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5}, "reason": {"type": "string"}},
    "required": ["score", "reason"],
    "additionalProperties": False,
}

RELEVANCE_SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "integer", "enum": [0, 20, 40, 60, 80, 100]}},
    "required": ["score"],
    "additionalProperties": False,
}


def prompt_fn(client: LLMClient | None) -> PromptFn | None:
    """The client as LLANA's ``PromptFn`` (prompt in, text out); None for no client or the ``none`` backend."""
    if client is None or getattr(client, "name", "") == "none":
        return None

    def ask(prompt: str, *, schema: dict[str, Any] | None = None) -> str:
        fields = (schema or {}).get("properties", {})
        # a score is a few tokens; 13 knob values about 200; 13 ranges plus ties about 400
        budget = 32 if "score" in fields else 1024 if "ranges" in fields else 384
        return client.chat([Message(role="user", content=prompt)], json_schema=schema, max_tokens=budget).content

    return ask


def llana_prompts() -> LLANAPrompts:
    """LLANA's three templates from ``prompts/llana_*.txt``."""
    from tools.analog.llana import LLANAPrompts

    return LLANAPrompts(
        candidate=load_prompt("llana_candidate"),
        surrogate=load_prompt("llana_surrogate"),
        constraint=load_prompt("llana_constraint"),
    )


def relevance_teacher(client: LLMClient) -> Teacher:
    """RAG-EDA's 0-100 relevance rubric (``prompts/docqa_relevance.txt``) scored by ``client`` with JSON output."""
    rubric = load_prompt("docqa_relevance")

    def score(query: str, texts: Sequence[str]) -> list[float]:
        out = []
        for text in texts:
            reply = client.chat(
                [Message(role="system", content=rubric), Message(role="user", content=f"Query: {query}\n\nDocument:\n{text}")],
                json_schema=RELEVANCE_SCHEMA,
            )
            out.append(float(json.loads(reply.content)["score"]))
        return out

    return score


def recipe_summary_llm(client: LLMClient | None, images: bool) -> SummaryLLM | None:
    """The client as the OPC recipe summary's writer (prompt, JSON schema or None, PNG paths -> text); None for no
    client or the ``none`` backend.

    With ``images`` (``Settings.llm_accepts_images``) the PNGs go along as OpenAI image parts; otherwise they are
    dropped and the model sees the tree and the table only.
    """
    if client is None or getattr(client, "name", "") == "none":
        return None

    def ask(prompt: str, schema: dict[str, Any] | None, pngs: list[str]) -> str:
        content: str | list[dict[str, Any]] = prompt
        if images and pngs:
            import base64
            from pathlib import Path

            content = [{"type": "text", "text": prompt}] + [
                {"type": "image_url",
                 "image_url": {"url": "data:image/png;base64," + base64.b64encode(Path(p).read_bytes()).decode()}}
                for p in pngs
            ]
        budget = 1500 if schema is not None else 200  # the whole summary JSON, or a few sentences of prose
        return client.chat([Message(role="user", content=content)], json_schema=schema, max_tokens=budget).content

    return ask


def judge_answer(client: LLMClient, request: str, answer: str) -> dict[str, Any]:
    """``client``'s 1-5 grade of an answer (``prompts/judge.txt``): a signal for humans, never a gate.

    Returns ``judge_score`` and ``judge_reason``, or ``judge_error`` when the reply is unusable.
    """
    messages = [
        Message(role="system", content=load_prompt("judge")),
        Message(role="user", content=f"Request: {request}\n\nAnswer:\n{answer[:4000]}"),
    ]
    try:
        verdict = json.loads(client.chat(messages, json_schema=JUDGE_SCHEMA, max_tokens=120).content)
        return {"judge_score": int(verdict["score"]), "judge_reason": str(verdict.get("reason", ""))}
    except (LLMError, ValueError, KeyError) as exc:
        return {"judge_error": str(exc)}
