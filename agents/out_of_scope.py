"""Utterances nobody here handles: the router scores requests against them too, so that a request for the
weather gets an honest "no specialist handles this" instead of the nearest registered agent."""

from __future__ import annotations

__all__ = ("OUT_OF_SCOPE_EXAMPLES",)

OUT_OF_SCOPE_EXAMPLES: tuple[str, ...] = (
    "what's the weather like tomorrow",
    "write me a poem about the sea",
    "tell me a joke",
    "who won the football match yesterday",
    "recommend a good restaurant nearby",
    "translate this sentence into French",
    "what is the capital of Australia",
    "how do I bake sourdough bread",
    "book a flight to Paris",
    "what time is it in Tokyo",
    "summarise the latest news",
    "help me write a birthday card",
    "what movie should I watch tonight",
    "how much is a bitcoin worth",
    "play some music",
)
