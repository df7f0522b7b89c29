"""Transformer shapes of the four workloads MixPE evaluates, as weight GEMMs per block.

MixPE (arXiv 2411.16158, evaluation) reports ViT-Base, ViT-Huge, OPT-6.7B and LLaMA-2-13B. Per block a
transformer runs four weight GEMMs on its ``M = batch * seq_len`` tokens (``K`` inputs, ``N`` outputs):
QKV projection (d -> 3d), attention output (d -> d), FFN1 (d -> f, or d -> 2f for a gated FFN whose gate
and up projections share the input) and FFN2 (f -> d). Attention's activation-activation products
(QK^T, PV) carry no quantised weights and are left out; so is ViT's patch embedding (under 1 % of ViT-Base's
MACs when every block runs all 197 tokens).

``simulator_gemms`` gives instead the workload of the MixPE authors' simulator (github.com/yuzhang712/
mixpe_simulator, ``bitfusion/src/benchmarks/*_bench.py`` run with ``batch_size = 64`` in ``run_mix.py``): every
block's GEMMs see ONE token per sample (``[1, d]`` inputs), so ``M = batch``; ViT keeps its patch-embedding
convolution over all 196 patches of a 224 x 224 image (16 x 16 patches for both ViTs), unquantised, which then
dominates ViT's time; LLaMA-2-13B's FFN is listed as an ungated 5120 -> 20480 -> 5120.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = (
    "ModelName",
    "MODEL_NAMES",
    "TransformerShape",
    "SHAPES",
    "GemmShape",
    "block_gemms",
    "simulator_gemms",
    "find_model",
)

ModelName = Literal["ViT-Base", "ViT-Huge", "OPT-6.7B", "LLaMA-2-13B"]
MODEL_NAMES: tuple[str, ...] = get_args(ModelName)


@dataclass(frozen=True)
class GemmShape:
    """One weight GEMM of a block: ``(M x K) @ (K x N)``; ``quantised=False`` for a layer kept at the datapath's
    base width (the simulator's ViT patch embedding)."""

    name: str
    m: int
    k: int
    n: int
    quantised: bool = True

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n


@dataclass(frozen=True)
class TransformerShape:
    """Dimensions of a transformer's blocks.

    Attributes:
        layers: number of blocks.
        hidden: model width d.
        ffn: FFN inner width f.
        gated_ffn: FFN1 has gate and up projections (SwiGLU), i.e. d -> 2f.
        default_seq_len: tokens per sample when the request gives none.
    """

    name: str
    layers: int
    hidden: int
    ffn: int
    gated_ffn: bool
    default_seq_len: int


SHAPES: dict[str, TransformerShape] = {
    # ViT-B/16 (Dosovitskiy et al., ICLR 2021, Table 1): 12 layers, d=768, MLP 3072; a 224x224 image
    # gives 14*14 = 196 patches + [CLS] = 197 tokens.
    "ViT-Base": TransformerShape("ViT-Base", 12, 768, 3072, False, 197),
    # ViT-H/14 (same table): 32 layers, d=1280, MLP 5120; 16*16 = 256 patches + [CLS] = 257 tokens.
    "ViT-Huge": TransformerShape("ViT-Huge", 32, 1280, 5120, False, 257),
    # OPT-6.7B (Zhang et al., arXiv 2205.01068, Table 1): 32 layers, d=4096, FFN 4d; a 2048-token prefill
    # (OPT's context length).
    "OPT-6.7B": TransformerShape("OPT-6.7B", 32, 4096, 16384, False, 2048),
    # LLaMA-2-13B (Touvron et al., arXiv 2307.09288; HF config: hidden 5120, intermediate 13824,
    # 40 layers, multi-head attention): SwiGLU FFN; a 2048-token prefill, as for OPT.
    "LLaMA-2-13B": TransformerShape("LLaMA-2-13B", 40, 5120, 13824, True, 2048),
}


def block_gemms(shape: TransformerShape, tokens: int) -> tuple[GemmShape, ...]:
    """The four weight GEMMs of one block for ``tokens`` rows (batch x sequence length)."""
    d, f = shape.hidden, shape.ffn
    return (
        GemmShape("QKV", tokens, d, 3 * d),
        GemmShape("O", tokens, d, d),
        GemmShape("FFN1", tokens, d, 2 * f if shape.gated_ffn else f),
        GemmShape("FFN2", tokens, f, d),
    )


_SIM_PATCHES = 196  # mixpe_simulator *_bench.py: [1, 3, 224, 224] input, 16 x 16 kernel, stride 16 -> 14 x 14
_SIM_PATCH_K = 3 * 16 * 16
_SIM_FFN = {"LLaMA-2-13B": 20480}  # *_bench.py llama lists: [20480, 5120] and [5120, 20480], no gate


def simulator_gemms(shape: TransformerShape, batch: int) -> tuple[GemmShape, ...]:
    """The MixPE simulator's workload per block (``M = batch``: one token per sample), plus ViT's patch embedding.

    The patch embedding is returned with ``quantised=False`` as the first GEMM, to be counted once, not per block.
    """
    d, f = shape.hidden, _SIM_FFN.get(shape.name, shape.ffn)
    gemms = (
        GemmShape("QKV", batch, d, 3 * d),
        GemmShape("O", batch, d, d),
        GemmShape("FFN1", batch, d, f),
        GemmShape("FFN2", batch, f, d),
    )
    if shape.name.startswith("ViT"):
        return (GemmShape("patch", _SIM_PATCHES * batch, _SIM_PATCH_K, d, quantised=False), *gemms)
    return gemms


_SEP = r"[\s_./-]*"
_ALIASES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("LLaMA-2-13B", re.compile(rf"\bllama{_SEP}2{_SEP}(?:chat{_SEP})?13{_SEP}b\b", re.I)),
    ("OPT-6.7B", re.compile(rf"\bopt{_SEP}6[.,]7{_SEP}b\b", re.I)),
    ("ViT-Huge", re.compile(rf"\bvit{_SEP}(?:huge|h)(?:{_SEP}14)?\b", re.I)),
    ("ViT-Base", re.compile(rf"\bvit{_SEP}(?:base|b)(?:{_SEP}16)?\b", re.I)),
    # a bare "ViT" means ViT-Base, as in the MixPE simulator's result tables
    ("ViT-Base", re.compile(rf"\bvit\b(?!{_SEP}(?:l|large|g|giant|s|small|ti|tiny)\b)", re.I)),
)


def find_model(text: str) -> str | None:
    """The canonical model name mentioned in ``text`` ("llama2-13b", "LLaMA 2 13B", "opt 6.7b", "ViT-H/14"), or None."""
    for name, pattern in _ALIASES:
        if pattern.search(text):
            return name
    return None
