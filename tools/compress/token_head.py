"""The small head that stands in for LLaVA's language model: it reads only the visual tokens it is given.

A LayerNorm and a linear projection from the tower's width, a learned [CLS] of its own, ``layers`` pre-norm
transformer blocks (``torch.nn.TransformerEncoderLayer``) and a linear classifier on that [CLS]. The tower's
[CLS] is not passed (LLaVA drops it too), so whatever the head knows about an image comes from the patch
tokens kept. Tokens carry their positions only through the tower's features, so merged (contextual) tokens
need no position of their own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tools.compress.visionzip import transformer_flops

__all__ = ("HeadConfig", "TokenHead", "train_head", "evaluate_head", "head_flops")

Select = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]
"""``(tokens (B, P, D), cls_attn (B, H, P), keys (B, P, dk), generator) -> kept tokens (B, K, D)``."""


@dataclass(frozen=True)
class HeadConfig:
    """Head size and schedule, sized for a loaded 2-core CPU."""

    width: int = 64
    layers: int = 2
    heads: int = 4
    mlp: int = 128
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.05


class TokenHead(nn.Module):
    def __init__(self, d_in: int, classes: int, cfg: HeadConfig) -> None:
        super().__init__()
        self.norm_in = nn.LayerNorm(d_in)
        self.proj = nn.Linear(d_in, cfg.width)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.width))
        layer = nn.TransformerEncoderLayer(
            cfg.width, cfg.heads, cfg.mlp, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.width)
        self.out = nn.Linear(cfg.width, classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.proj(self.norm_in(tokens))
        x = self.blocks(torch.cat([self.cls.expand(len(x), -1, -1), x], dim=1))
        return self.out(self.norm(x[:, 0]))


def head_flops(tokens: int, d_in: int, classes: int, cfg: HeadConfig) -> float:
    """FLOPs (2 per multiply-accumulate) of one image through the head with ``tokens`` visual tokens."""
    n = tokens + 1  # the head's own [CLS]
    return 2.0 * tokens * d_in * cfg.width + transformer_flops([n] * cfg.layers, cfg.width, cfg.mlp) + 2.0 * cfg.width * classes


def train_head(
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    select: Select,
    classes: int,
    cfg: HeadConfig,
    epochs: int,
    seed: int,
    head: TokenHead | None = None,
    lr_scale: float = 1.0,
    progress: Callable[[float], None] | None = None,
) -> TokenHead:
    """Train ``head`` (a fresh one when None) on ``select``-ed tokens of ``data = (tokens, cls_attn, keys, labels)``.

    AdamW, cosine decay with 10 % linear warm-up, cross-entropy; batches drawn by a generator seeded with ``seed``.
    """
    tokens, cls_attn, keys, labels = data
    gen = torch.Generator().manual_seed(seed)
    if head is None:
        torch.manual_seed(seed)
        head = TokenHead(tokens.shape[-1], classes, cfg)
    head.train()
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr * lr_scale, weight_decay=cfg.weight_decay)
    steps = epochs * math.ceil(len(labels) / cfg.batch_size)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm)))
    )
    step = 0
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=gen)
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            x = select(tokens[idx].float(), cls_attn[idx], keys[idx].float(), gen)
            loss = nn.functional.cross_entropy(head(x), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if progress is not None:
                progress(step / steps)
    return head.eval()


@torch.no_grad()
def evaluate_head(
    head: TokenHead, data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], select: Select, seed: int
) -> tuple[float, float, Any]:
    """``(accuracy, ms per image for selection + head, predictions)`` on ``data``, in batches of 64."""
    tokens, cls_attn, keys, labels = data
    gen = torch.Generator().manual_seed(seed)
    preds = []
    start = time.perf_counter()
    for s in range(0, len(labels), 64):
        x = select(tokens[s : s + 64].float(), cls_attn[s : s + 64], keys[s : s + 64].float(), gen)
        preds.append(head(x).argmax(-1))
    ms = (time.perf_counter() - start) * 1e3 / len(labels)
    pred = torch.cat(preds)
    return (pred == labels).float().mean().item(), ms, pred
