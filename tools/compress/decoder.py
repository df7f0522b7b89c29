"""The one place that knows how a LLaMA-style decoder is laid out: run its blocks one by one, drop blocks.

Every compression method here works block by block (FuseGPT scores and fuses blocks, ShortGPT compares block
inputs and outputs, MoreauPruner slices projections inside blocks), so they share these helpers instead of
each re-implementing the model's forward pass. Supported: Hugging Face causal LMs whose blocks hold
``self_attn.{q,k,v,o}_proj`` and ``mlp.{gate,up,down}_proj`` (LLaMA, Mistral, Qwen2/Qwen3, SmolLM).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tools.common import InputError

__all__ = (
    "SUPPORTED_TYPES",
    "ATTN_PROJ",
    "MLP_PROJ",
    "LayerContext",
    "check_decoder",
    "layers_of",
    "embed",
    "layer_context",
    "run_layers",
    "block_inputs",
    "lm_logits",
    "remove_blocks",
    "count_params",
    "block_params",
)

SUPPORTED_TYPES = ("llama", "mistral", "qwen2", "qwen3")
"""``config.model_type`` values whose blocks have the layout the methods slice and fuse."""

ATTN_PROJ = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP_PROJ = ("gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LayerContext:
    """What every block needs besides its input: rotary embeddings and the causal mask for length ``T``."""

    position_embeddings: tuple[torch.Tensor, torch.Tensor]
    attention_mask: torch.Tensor  # (1, 1, T, T) additive: 0 on and below the diagonal, dtype-min above


def check_decoder(model: Any) -> None:
    """Raise an ``InputError`` naming the architecture unless the model has the supported block layout."""
    model_type = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
    layers = getattr(getattr(model, "model", None), "layers", None)
    ok = model_type in SUPPORTED_TYPES and isinstance(layers, nn.ModuleList) and len(layers) > 0
    if ok:
        block = layers[0]
        ok = all(isinstance(getattr(block.self_attn, n, None), nn.Linear) for n in ATTN_PROJ) and all(
            isinstance(getattr(block.mlp, n, None), nn.Linear) for n in MLP_PROJ
        )
    if not ok:
        raise InputError("model", model_type, f"a LLaMA-style decoder ({', '.join(SUPPORTED_TYPES)})")


def layers_of(model: Any) -> nn.ModuleList:
    """The model's decoder blocks."""
    return model.model.layers


def embed(model: Any, ids: torch.Tensor) -> torch.Tensor:
    """``(B, T) -> (B, T, D)`` token embeddings: the input of block 0."""
    return model.model.embed_tokens(ids)


def layer_context(model: Any, hidden: torch.Tensor) -> LayerContext:
    """Rotary ``(cos, sin)`` and the causal mask for sequences of ``hidden.shape[1]`` tokens."""
    t = hidden.shape[1]
    position_ids = torch.arange(t, device=hidden.device).unsqueeze(0)
    rope = model.model.rotary_emb(hidden, position_ids=position_ids)
    mask = torch.full((t, t), torch.finfo(hidden.dtype).min, dtype=hidden.dtype, device=hidden.device).triu(1)
    return LayerContext(position_embeddings=rope, attention_mask=mask[None, None])


def run_layers(layers: Iterable[nn.Module], hidden: torch.Tensor, ctx: LayerContext) -> torch.Tensor:
    """Apply blocks in order: ``(B, T, D) -> (B, T, D)`` (no KV cache)."""
    for layer in layers:
        out = layer(hidden, attention_mask=ctx.attention_mask, position_embeddings=ctx.position_embeddings)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


@torch.no_grad()
def block_inputs(model: Any, ids: torch.Tensor) -> tuple[list[torch.Tensor], LayerContext]:
    """Hidden states entering each block and leaving the last: ``N + 1`` tensors of ``(B, T, D)``."""
    hidden = embed(model, ids)
    ctx = layer_context(model, hidden)
    states = [hidden]
    for layer in layers_of(model):
        states.append(run_layers([layer], states[-1], ctx))
    return states, ctx


def lm_logits(model: Any, hidden: torch.Tensor) -> torch.Tensor:
    """Final norm and LM head on the last block's output: ``(B, T, D) -> (B, T, V)``."""
    return model.lm_head(model.model.norm(hidden))


def remove_blocks(model: Any, indices: Iterable[int]) -> None:
    """Delete blocks in place and keep the config consistent, so that ``save_pretrained`` output reloads.

    Re-numbers ``self_attn.layer_idx`` (the KV-cache slot of each block) and trims per-layer config lists
    such as Qwen2's ``layer_types``.
    """
    drop = set(indices)
    layers = layers_of(model)
    keep = [i for i in range(len(layers)) if i not in drop]
    if not keep:
        raise InputError("blocks", sorted(drop), f"fewer than all {len(layers)} blocks")
    model.model.layers = nn.ModuleList([layers[i] for i in keep])
    for new_idx, layer in enumerate(model.model.layers):
        layer.self_attn.layer_idx = new_idx
    model.config.num_hidden_layers = len(keep)
    layer_types = getattr(model.config, "layer_types", None)
    if isinstance(layer_types, list) and len(layer_types) == len(layers):
        model.config.layer_types = [layer_types[i] for i in keep]


def count_params(model: nn.Module) -> int:
    """Distinct parameters (tied embedding and LM head counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def block_params(model: Any) -> int:
    """Parameters inside the decoder blocks (the part block and structured pruning remove from)."""
    return sum(p.numel() for p in layers_of(model).parameters())
