"""What the LLM compression tools take and report, as plain pydantic models and names (no torch).

``LLMArgs`` names the model and the calibration text, ``EvalArgs`` adds the evaluation budget, ``ModelQuality``
is the one measurement every tool reports (``tools.compress.quality.measure`` fills it); ``BlockMethod`` and
``Precision`` are the block-removal methods and the weight precisions the tools accept. Keeping them apart from
the torch engines lets the tools' argument schemas load without torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ("LLMArgs", "EvalArgs", "ModelQuality", "PROMPT", "BlockMethod", "DistillLoss", "Precision")

BlockMethod = Literal["fusegpt", "mi", "sleb", "shortgpt"]
"""How blocks are chosen and removed: FuseGPT (Macro Influence + fusion), plain removal by MI, SLEB (calibration
loss, iterative) or ShortGPT (BI, one shot)."""

DistillLoss = Literal["kl", "mse"]
"""FuseGPT's distillation loss: KL divergence of the LM-head read-outs, or squared error of the hidden states."""

Precision = Literal["fp32", "bf16", "fp16"]
"""The weight precision an importance estimate is computed from."""

PROMPT = "The Python interpreter"
"""Prompt of the generation check after saving a compressed model."""


class LLMArgs(BaseModel):
    """Model and calibration text (the defaults fit a 2-core CPU)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        None, description="Local Hugging Face folder, .gguf file or compressed-model folder; None: SmolLM2-135M."
    )
    corpus: str | None = Field(
        None, description="'pydoc' (default: Python's documentation topics), 'wikipedia' (10,033 English lead "
        "sections, extra llm-data), a .txt/.jsonl file or a folder of them."
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
    extra_corpora: list[str] = Field(
        [], description="Other corpora whose held-out split is also scored for perplexity (e.g. ['pydoc'])."
    )


class ModelQuality(BaseModel):
    """One model's quality and cost. Proxy accuracies are on tasks built from held-out text (chance 0.25)."""

    perplexity: float | None = Field(None, description="Held-out perplexity (None when eval_tokens = 0).")
    extra_perplexity: dict[str, float] = Field(
        default_factory=dict, description="Held-out perplexity on each of EvalArgs.extra_corpora."
    )
    cloze_acc: float | None = Field(None, description="Proxy: last-word cloze accuracy.")
    next_sentence_acc: float | None = Field(None, description="Proxy: next-sentence choice accuracy.")
    params: int = Field(description="Distinct parameters (tied embeddings once).")
    block_params: int = Field(description="Parameters inside the decoder blocks.")
    blocks: int = Field(description="Decoder blocks.")
    size_mb: float = Field(description="fp32 weight size. In MiB.")
    latency_ms: float | None = Field(None, description="Median prefill time of 128 tokens on this machine. In ms.")
