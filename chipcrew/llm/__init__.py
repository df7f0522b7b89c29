"""LLM clients: one interface (:class:`LLMClient`), three backends chosen by settings."""

from __future__ import annotations

from chipcrew.settings import Settings

from .base import ChatReply, LLMClient, LLMError, LLMResponseError, LLMUnavailableError, Message, ToolCallOut

__all__ = (
    "ChatReply",
    "LLMClient",
    "LLMError",
    "LLMResponseError",
    "LLMUnavailableError",
    "Message",
    "ToolCallOut",
    "make_client",
)


def make_client(settings: Settings) -> LLMClient:
    """The client the settings ask for."""
    if settings.llm_backend == "openai":
        from .openai_backend import OpenAIClient

        return OpenAIClient(
            settings.openai_base_url,
            api_key=settings.openai_api_key,
            model=settings.openai_model,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            max_tokens=settings.llm_max_tokens,
        )
    if settings.llm_backend == "embedded":
        from .embedded import EmbeddedClient

        return EmbeddedClient(settings.embedded_gguf, cache_dir=settings.cache_dir, max_tokens=settings.llm_max_tokens)
    from .none_backend import NoneClient

    return NoneClient()
