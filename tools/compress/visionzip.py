"""VisionZip: keep the visual tokens that matter, merge the rest, inside a ViT / CLIP / SigLIP vision tower.

Yang et al., "VisionZip: Longer is Better but Not Necessary in Vision Language Models", arXiv 2412.04467,
Sec. 3. At one layer of the tower (the penultimate, whose output LLaVA feeds to the LLM):

1. **dominant tokens**: the ``dominant`` patch tokens that receive the most attention from CLS (attention summed
   over heads); for towers without CLS (SigLIP) the attention a token receives averaged over all queries;
2. **contextual tokens**: the remaining patch tokens are split into ``contextual`` targets, chosen uniformly
   (every ``R // contextual``-th remaining token), and the others; each other token joins the target whose key
   (the layer's keys averaged over heads, L2-normalised) is most similar; a contextual token is the target's
   hidden state plus the mean of the hidden states assigned to it (as issue 6 summarises the authors' code;
   a public refactor averages the target with its group instead);
3. CLS (if any) is kept in front: ``1 + dominant + contextual`` tokens go on.

The paper's LLaVA-1.5 settings keep 54+10, 108+20 or 162+30 of 576 tokens. Baselines at the same budget keep
``dominant + contextual`` patch tokens chosen at random or on a uniform grid (a raster stride when the patches do
not form a square). Shapes: hidden ``(B, N, D)``
with CLS at index 0 when present, attention ``(B, H, N, N)``, keys ``(B, N, d_k)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from tools.common import InputError

__all__ = (
    "TokenMethod",
    "Tower",
    "vision_tower",
    "dominant_scores",
    "visionzip_merge",
    "visionzip_tokens",
    "baseline_keep",
    "grid_indices",
    "forward_with_selection",
    "tower_flops",
    "transformer_flops",
    "DOMINANT_SHARE",
    "dominant_split",
)

TokenMethod = Literal["visionzip", "random", "uniform", "none"]
DOMINANT_SHARE = 54 / 64
"""VisionZip's split of a 64-token budget: 54 dominant + 10 contextual (paper, Table 1; 108+20 and 162+30 at 128
and 192 keep the same ratio)."""


def dominant_split(tokens: int) -> tuple[int, int]:
    """``(dominant, contextual)`` for a budget of ``tokens`` patch tokens, in the paper's 54 : 10 ratio."""
    dominant = max(1, int(tokens * DOMINANT_SHARE + 0.5)) if tokens > 1 else tokens
    return dominant, tokens - dominant


@dataclass(frozen=True)
class Tower:
    """A vision tower opened up: how to embed, its blocks, and where each block's attention and keys come from."""

    embed: Callable[[torch.Tensor], torch.Tensor]
    layers: nn.ModuleList
    attention: Callable[[nn.Module], nn.Module]
    """Block -> its self-attention module, whose forward returns ``(output, probabilities)`` in eager mode."""
    key_proj: Callable[[nn.Module], nn.Linear]
    num_heads: int
    has_cls: bool
    hidden: int
    mlp: int


def vision_tower(model: Any) -> Tower:
    """Open a transformers ``CLIPVisionModel``/``SiglipVisionModel``/``ViTModel``/``ViTForImageClassification``/
    ``Dinov2Model`` (the pretrained tower of ``tools.compress.focus_vit``).

    Switches the model to eager attention, the only implementation that returns attention probabilities.

    Raises:
        InputError: any other model class.
    """
    kinds = (
        "CLIPVisionModel",
        "CLIPVisionModelWithProjection",
        "SiglipVisionModel",
        "ViTModel",
        "ViTForImageClassification",
        "Dinov2Model",
    )
    name = type(model).__name__
    if name not in kinds:
        raise InputError("model", name, kinds)
    model.set_attn_implementation("eager")
    cfg = model.config
    if name.startswith(("CLIP", "Siglip")):
        vm = getattr(model, "vision_model", model)  # transformers < 5 nests the tower one level deeper
        pre = getattr(vm, "pre_layrnorm", nn.Identity())  # CLIP normalises the embeddings first
        return Tower(
            embed=lambda px: pre(vm.embeddings(px)),
            layers=vm.encoder.layers,
            attention=lambda b: b.self_attn,
            key_proj=lambda b: b.self_attn.k_proj,
            num_heads=cfg.num_attention_heads,
            has_cls=name.startswith("CLIP"),
            hidden=cfg.hidden_size,
            mlp=cfg.intermediate_size,
        )
    vit = model.vit if name == "ViTForImageClassification" else model
    layers = vit.layers if hasattr(vit, "layers") else vit.encoder.layer
    attention = layers[0].attention
    key_proj = (lambda b: b.attention.k_proj) if hasattr(attention, "k_proj") else (lambda b: b.attention.attention.key)
    return Tower(
        embed=vit.embeddings,
        layers=layers,
        attention=lambda b: b.attention,
        key_proj=key_proj,
        num_heads=cfg.num_attention_heads,
        has_cls=True,
        hidden=cfg.hidden_size,
        mlp=getattr(cfg, "intermediate_size", None) or int(cfg.hidden_size * getattr(cfg, "mlp_ratio", 4)),
    )


def dominant_scores(attn: torch.Tensor, has_cls: bool) -> torch.Tensor:
    """``(B, H, N, N) -> (B, P)`` attention received by each patch token: from CLS, or averaged over queries."""
    summed = attn.sum(1)  # (B, N, N): heads summed
    if has_cls:
        return summed[:, 0, 1:]
    return summed.mean(1)


def visionzip_merge(
    hidden: torch.Tensor, attn: torch.Tensor, keys: torch.Tensor, dominant: int, contextual: int, has_cls: bool
) -> torch.Tensor:
    """``(B, N, D) -> (B, [1 +] dominant + contextual, D)``: CLS, dominant tokens (in image order), contextual."""
    return visionzip_tokens(hidden, dominant_scores(attn, has_cls), keys, dominant, contextual, has_cls)


def visionzip_tokens(
    hidden: torch.Tensor, scores: torch.Tensor, keys: torch.Tensor, dominant: int, contextual: int, has_cls: bool
) -> torch.Tensor:
    """``visionzip_merge`` from the patch scores ``(B, P)`` (``dominant_scores``), e.g. cached CLS attention rows."""
    offset = int(has_cls)
    patches, patch_keys = hidden[:, offset:], keys[:, offset:]  # (B, P, D), (B, P, dk)
    n_patch = patches.shape[1]
    if dominant + contextual > n_patch or dominant < 0 or contextual < 0:
        raise InputError("dominant", f"{dominant}+{contextual}", f"non-negative counts summing to at most {n_patch}")
    top = scores.topk(dominant, dim=-1).indices.sort(dim=-1).values  # (B, K)
    keep = [hidden[:, :offset], torch.gather(patches, 1, top[..., None].expand(-1, -1, hidden.shape[-1]))]
    if contextual:
        rest_mask = torch.ones(hidden.shape[0], n_patch, dtype=torch.bool, device=hidden.device)
        rest_mask.scatter_(1, top, False)
        rest = patches[rest_mask].view(hidden.shape[0], -1, hidden.shape[-1])  # (B, R, D), image order
        rest_keys = F.normalize(patch_keys[rest_mask].view(hidden.shape[0], -1, keys.shape[-1]), dim=-1)
        keep.append(_contextual_tokens(rest, rest_keys, contextual))
    return torch.cat(keep, dim=1)


def _contextual_tokens(rest: torch.Tensor, keys: torch.Tensor, contextual: int) -> torch.Tensor:
    """``(B, R, D)`` remaining tokens with unit keys ``(B, R, dk)`` -> ``(B, contextual, D)``."""
    n_rest = rest.shape[1]
    step = max(1, n_rest // contextual)
    target = torch.arange(0, n_rest, step, device=rest.device)[:contextual]  # uniform targets
    is_target = torch.zeros(n_rest, dtype=torch.bool, device=rest.device)
    is_target[target] = True
    others, other_keys = rest[:, ~is_target], keys[:, ~is_target]  # (B, R - C, D), (B, R - C, dk)
    assign = (other_keys @ keys[:, target].transpose(1, 2)).argmax(-1)  # (B, R - C): most similar target
    one_hot = F.one_hot(assign, contextual).to(rest.dtype)  # (B, R - C, C)
    counts = one_hot.sum(1).clamp_min(1.0)[..., None]  # (B, C, 1)
    return rest[:, target] + one_hot.transpose(1, 2) @ others / counts


def baseline_keep(
    hidden: torch.Tensor,
    count: int,
    method: Literal["random", "uniform"],
    has_cls: bool,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``(B, N, D) -> (B, [1 +] count, D)``: CLS and ``count`` patch tokens, random or on a uniform grid."""
    offset = int(has_cls)
    n_patch = hidden.shape[1] - offset
    if not 0 <= count <= n_patch:
        raise InputError("tokens", count, f"between 0 and {n_patch}")
    if method == "uniform":
        idx = grid_indices(count, n_patch).expand(hidden.shape[0], -1)
    else:
        idx = torch.stack(
            [torch.randperm(n_patch, generator=generator)[:count].sort().values for _ in range(hidden.shape[0])]
        )
    idx = idx.to(hidden.device)
    chosen = torch.gather(hidden[:, offset:], 1, idx[..., None].expand(-1, -1, hidden.shape[-1]))
    return torch.cat([hidden[:, :offset], chosen], dim=1)


def grid_indices(count: int, n_patch: int) -> torch.Tensor:
    """``count`` patch indices spread evenly: a ``rows x cols`` grid over a square patch layout (``rows`` about
    sqrt(count); the surplus of ``rows * cols`` over ``count`` dropped evenly), else a stride over the raster."""
    side = math.isqrt(n_patch)
    if side * side != n_patch or count == 0:
        return torch.linspace(0, n_patch - 1, count).round().long()
    rows = max(1, min(side, round(math.sqrt(count))))
    cols = min(side, math.ceil(count / rows))
    rows = min(side, math.ceil(count / cols))
    r = torch.linspace(0, side - 1, rows).round().long()
    c = torch.linspace(0, side - 1, cols).round().long()
    grid = (r[:, None] * side + c[None, :]).flatten()
    return grid[torch.linspace(0, len(grid) - 1, count).round().long()]


@torch.no_grad()
def forward_with_selection(
    tower: Tower,
    pixels: torch.Tensor,
    layer: int,
    method: TokenMethod,
    dominant: int,
    contextual: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Run the tower, reducing the tokens right after block ``layer``; the blocks after it see fewer tokens.

    Returns the last block's output ``(B, N', D)`` (before the tower's final norm).
    """
    if not 0 <= layer < len(tower.layers):
        raise InputError("layer", layer, f"a block index in 0..{len(tower.layers) - 1}")
    captured: dict[str, torch.Tensor] = {}
    hidden = tower.embed(pixels)
    for i, block in enumerate(tower.layers):
        hooks = []
        if i == layer and method == "visionzip":
            hooks = [
                tower.attention(block).register_forward_hook(lambda m, a, out: captured.__setitem__("attn", out[1])),
                tower.key_proj(block).register_forward_hook(lambda m, a, out: captured.__setitem__("keys", out)),
            ]
        hidden = block(hidden, None)
        for h in hooks:
            h.remove()
        if i == layer and method == "visionzip":
            b, n, _ = captured["keys"].shape
            keys = captured["keys"].view(b, n, tower.num_heads, -1).mean(2)  # (B, N, d_head): heads averaged
            hidden = visionzip_merge(hidden, captured["attn"], keys, dominant, contextual, tower.has_cls)
        elif i == layer and method in ("random", "uniform"):
            hidden = baseline_keep(hidden, dominant + contextual, method, tower.has_cls, generator)
    return hidden


def tower_flops(tower: Tower, tokens_per_block: list[int]) -> float:
    """Multiply-accumulate FLOPs (2 per MAC) of the blocks for the given token count at each block's input.

    Per block with ``n`` tokens, width ``d`` and MLP width ``m``: QKV and output projections ``4 n d^2``,
    attention scores and weighted sum ``2 n^2 d``, MLP ``2 n d m`` MACs (the standard transformer count, e.g.
    Kaplan et al. 2020, Table 1, with the context term made explicit).
    """
    return transformer_flops(tokens_per_block, tower.hidden, tower.mlp)


def transformer_flops(tokens_per_block: list[int], width: int, mlp: int) -> float:
    """``tower_flops`` for any pre-norm transformer of ``width`` and MLP width ``mlp`` (norms and biases left out)."""
    d, m = width, mlp
    return float(sum(2 * (4 * n * d * d + 2 * n * n * d + 2 * n * d * m) for n in tokens_per_block))
