"""The embedded model's prefix cache: a system prompt seen again skips its prefill and gives the same tokens."""

from __future__ import annotations

from chipcrew.llm.base import ChatReply, Message
from chipcrew.llm.embedded import PREFIX_SLOTS, EmbeddedClient


def _ask(client: EmbeddedClient, system: str, user: str, max_tokens: int = 12) -> ChatReply:
    messages = [Message(role="system", content=system), Message(role="user", content=user)]
    return client.chat(messages, max_tokens=max_tokens)


def test_a_kept_prefix_gives_the_same_reply_as_a_full_prefill(embedded_llm: EmbeddedClient) -> None:
    system = "You are a lithography engineer. Answer in one short sentence about optical proximity correction."
    uncached = _ask(embedded_llm, system, "What is a serif?")  # first sighting: no cache is built
    assert uncached.cached_tokens == 0 and system not in embedded_llm._prefixes
    built = _ask(embedded_llm, system, "What is a serif?")  # second: the cache is built, then used
    reused = _ask(embedded_llm, system, "What is a serif?")
    assert built.cached_tokens == 0 and 20 < reused.cached_tokens < reused.prompt_tokens == uncached.prompt_tokens
    assert uncached.content == built.content == reused.content and uncached.content
    assert reused.completion_tokens == uncached.completion_tokens > 0


def test_only_a_few_prefixes_are_kept(embedded_llm: EmbeddedClient) -> None:
    for i in range(PREFIX_SLOTS + 2):
        for _ in range(2):
            _ask(embedded_llm, f"You are assistant number {i}. Reply briefly.", "Hi", max_tokens=1)
    assert len(embedded_llm._prefixes) == PREFIX_SLOTS
    assert "You are assistant number 0. Reply briefly." not in embedded_llm._prefixes
