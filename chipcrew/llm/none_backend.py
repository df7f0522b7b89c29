"""The ``none`` backend: no generation at all. Answers come from the agents' templates."""

from __future__ import annotations

from typing import Any

from .base import ChatReply, LLMError, Message

__all__ = ("NoneClient",)


class NoneClient:
    """Refuses to generate; callers that can work without an LLM check ``name == "none"`` first."""

    name = "none"

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> ChatReply:
        raise LLMError("the LLM backend is 'none'; set CHIPCREW_LLM_BACKEND=embedded or openai to generate text")
