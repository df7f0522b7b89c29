"""Arguments every LLM compression tool shares, and the one quality measurement they all report.

``LLMArgs`` names the model and the calibration text, ``EvalArgs`` adds the evaluation budget; ``measure``
turns a model into a ``ModelQuality`` (held-out perplexity, the two proxy accuracies, parameters, size, CPU
prefill latency), so that every method is scored by the same code on the same held-out windows.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from tools.common import ProgressFn, report
from tools.compress.corpus import TextSplit, windows
from tools.compress.decoder import block_params, count_params, layers_of
from tools.compress.metrics import latency_ms, perplexity
from tools.compress.proxies import build_cloze, build_next_sentence, proxy_accuracy

__all__ = ("LLMArgs", "EvalArgs", "ModelQuality", "measure", "PROMPT")

PROMPT = "The Python interpreter"
"""Prompt of the generation check after saving a compressed model."""


class LLMArgs(BaseModel):
    """Model and calibration text (the defaults fit a 2-core CPU)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        None, description="Local Hugging Face folder, .gguf file or compressed-model folder; None: SmolLM2-135M."
    )
    corpus: str | None = Field(
        None, description="'pydoc' (default: Python's documentation topics), a .txt/.jsonl file or a folder of them."
    )
    seq_len: int = Field(128, ge=8, le=4096, description="Tokens per calibration window.")
    calib_samples: int = Field(16, ge=1, le=1024, description="Calibration windows (random starts, seeded).")
    seed: int = Field(0, ge=0, description="Seed of calibration sampling and of every random draw.")
    device: str = Field("cpu", description="Torch device ('cpu', 'cuda', 'cuda:1').")
    cache_dir: str | None = Field(None, description="Cache of converted GGUF weights; None: the ChipCrew cache.")
    out_dir: str | None = Field(None, description="Folder for artefacts; None: a fresh run folder.")


class EvalArgs(LLMArgs):
    """``LLMArgs`` plus the evaluation budget."""

    eval_tokens: int = Field(8192, ge=0, le=1_000_000, description="Held-out tokens for perplexity; 0 skips it.")
    eval_seq_len: int = Field(256, ge=8, le=4096, description="Tokens per held-out perplexity window.")
    proxy_items: int = Field(32, ge=0, le=1000, description="Items per proxy task (cloze, next sentence); 0 skips.")
    latency: bool = Field(True, description="Measure CPU prefill latency of a 128-token prompt.")


class ModelQuality(BaseModel):
    """One model's quality and cost. Proxy accuracies are on tasks built from held-out text (chance 0.25)."""

    perplexity: float | None = Field(None, description="Held-out perplexity (None when eval_tokens = 0).")
    cloze_acc: float | None = Field(None, description="Proxy: last-word cloze accuracy.")
    next_sentence_acc: float | None = Field(None, description="Proxy: next-sentence choice accuracy.")
    params: int = Field(description="Distinct parameters (tied embeddings once).")
    block_params: int = Field(description="Parameters inside the decoder blocks.")
    blocks: int = Field(description="Decoder blocks.")
    size_mb: float = Field(description="fp32 weight size. In MiB.")
    latency_ms: float | None = Field(None, description="Median prefill time of 128 tokens on this machine. In ms.")


def measure(
    model: Any,
    tokenizer: Any,
    args: EvalArgs,
    split: TextSplit,
    heldout: torch.Tensor,
    progress: ProgressFn | None = None,
) -> ModelQuality:
    """Score ``model`` on the held-out split with the budget in ``args``."""
    ppl = cloze = nxt = lat = None
    if args.eval_tokens:
        n = max(1, args.eval_tokens // args.eval_seq_len)
        ppl = perplexity(
            model, windows(heldout, args.eval_seq_len, n), progress=lambda m, f: report(progress, m, 0.6 * f)
        )
    if args.proxy_items:
        report(progress, "proxy tasks", 0.6)
        cloze = proxy_accuracy(
            model, tokenizer, build_cloze(split.heldout, args.proxy_items, args.seed), per_char=False
        )
        items = build_next_sentence(split.heldout, args.proxy_items, args.seed)
        nxt = proxy_accuracy(model, tokenizer, items, per_char=True)
    if args.latency:
        report(progress, "latency", 0.95)
        lat = latency_ms(model)
    n_params = count_params(model)
    return ModelQuality(
        perplexity=ppl,
        cloze_acc=cloze,
        next_sentence_acc=nxt,
        params=n_params,
        block_params=block_params(model),
        blocks=len(layers_of(model)),
        size_mb=n_params * 4 / 2**20,
        latency_ms=lat,
    )
