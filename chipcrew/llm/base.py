"""The one LLM interface every backend implements, and its errors."""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from tools.common import ChipCrewError

__all__ = ("Message", "ToolCallOut", "ChatReply", "LLMClient", "LLMError", "LLMUnavailableError", "LLMResponseError")


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]]
    """Text, or OpenAI content parts (``{"type": "text", ...}``, ``{"type": "image_url", ...}``) for an endpoint
    that takes images (``Settings.llm_accepts_images``)."""


class ToolCallOut(BaseModel):
    """A tool call the model asked for, arguments already parsed from JSON."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ChatReply(BaseModel):
    content: str = ""
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    model: str = ""
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens served from a kept prefix cache (OpenAI's ``usage.prompt_tokens_details.cached_tokens``)."""


class LLMError(ChipCrewError, RuntimeError):
    """The LLM backend failed."""


class LLMUnavailableError(LLMError):
    """The endpoint could not be reached or timed out after all retries."""


class LLMResponseError(LLMError):
    """The endpoint answered, but not with what was asked (bad JSON, wrong schema, HTTP error)."""


@runtime_checkable
class LLMClient(Protocol):
    """Chat with an optional JSON schema (structured output) and optional tools (OpenAI function format)."""

    name: str

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> ChatReply: ...
