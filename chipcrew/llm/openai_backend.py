"""Any OpenAI-compatible endpoint (vLLM, OpenAI, llama.cpp server, ``chipcrew serve``) through the ``openai`` SDK.

Structured output uses ``response_format={"type": "json_schema", ...}``: vLLM (>= 0.12, which dropped the old
``guided_*`` fields and ignores unknown fields silently) and OpenAI both enforce it. Retries with exponential
backoff on connection errors, 408/429/5xx come from the SDK (``max_retries``).
"""

from __future__ import annotations

import json
import time
from typing import Any

import openai

from .base import ChatReply, LLMResponseError, LLMUnavailableError, Message, ToolCallOut

__all__ = ("OpenAIClient",)


class OpenAIClient:
    """Chat client for an OpenAI-compatible ``/v1`` endpoint."""

    name = "openai"

    def __init__(
        self,
        base_url: str | None,
        api_key: str = "EMPTY",
        model: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        max_tokens: int = 256,
    ):
        self.base_url = base_url or "https://api.openai.com/v1"
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries)
        self._model = model
        self.max_tokens = max_tokens

    @property
    def model(self) -> str:
        """The configured model, else the first the server lists (vLLM serves one)."""
        if self._model is None:
            models = self._call(lambda: self._client.models.list())
            if not models.data:
                raise LLMResponseError(f"{self.base_url}/models lists no model; set CHIPCREW_OPENAI_MODEL")
            self._model = models.data[0].id
        return self._model

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> ChatReply:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in messages],
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": 0.0,
        }
        if json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": json_schema, "strict": True},
            }
        if tools:
            kwargs["tools"] = tools
            kwargs["tool_choice"] = "auto"
        start = time.perf_counter()
        completion = self._call(lambda: self._client.chat.completions.create(**kwargs))
        try:
            choice = completion.choices[0].message
            content = choice.content or ""
            calls = [
                ToolCallOut(name=c.function.name, arguments=json.loads(c.function.arguments or "{}"))
                for c in (choice.tool_calls or [])
            ]
        except (AttributeError, IndexError, TypeError, json.JSONDecodeError) as exc:
            raise LLMResponseError(f"{self.base_url} returned a malformed chat completion: {exc}") from exc
        if json_schema is not None:
            try:
                json.loads(content)
            except json.JSONDecodeError as exc:
                raise LLMResponseError(
                    f"{self.base_url} ignored the JSON schema: reply is not JSON ({content[:80]!r})"
                ) from exc
        usage = completion.usage  # optional in the API: a server may not count
        details = getattr(usage, "prompt_tokens_details", None)
        return ChatReply(
            content=content, tool_calls=calls, model=completion.model or self.model, seconds=time.perf_counter() - start,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            cached_tokens=getattr(details, "cached_tokens", 0) or 0,
        )

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except openai.APITimeoutError as exc:
            raise LLMUnavailableError(f"LLM endpoint {self.base_url} timed out after retries") from exc
        except openai.APIConnectionError as exc:
            raise LLMUnavailableError(
                f"LLM endpoint {self.base_url} is unreachable ({exc.__cause__ or exc}); is the server running? "
                "Check CHIPCREW_OPENAI_BASE_URL or use CHIPCREW_LLM_BACKEND=embedded"
            ) from exc
        except openai.APIStatusError as exc:
            raise LLMResponseError(f"LLM endpoint {self.base_url} answered HTTP {exc.status_code}: {exc.message}") from exc
        except openai.APIResponseValidationError as exc:
            raise LLMResponseError(f"LLM endpoint {self.base_url} returned malformed JSON: {exc}") from exc
        except (json.JSONDecodeError, ValueError) as exc:
            raise LLMResponseError(f"LLM endpoint {self.base_url} returned malformed JSON: {exc}") from exc
