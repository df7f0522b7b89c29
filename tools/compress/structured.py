"""Structured pruning of a LLaMA-style decoder: whole key-value head groups and MLP channels.

The coupled structures follow LLM-Pruner (Ma et al., NeurIPS 2023, arXiv 2305.11627), which MoreauPruner
builds on:

- a **key-value group** ``g`` of a grouped-query attention block: k/v heads ``g`` and the ``n_q / n_kv`` query
  heads that read them (rows of ``q_proj``, ``k_proj``, ``v_proj``, columns of ``o_proj``);
- an **MLP channel** ``c``: row ``c`` of ``gate_proj`` and ``up_proj``, column ``c`` of ``down_proj``.

A unit's importance is the sum of element scores ``|W ⊙ G|`` over its weights (LLM-Pruner's element-wise
first-order Taylor score with ``sum`` group reduction), where ``G`` is a gradient estimate
(``tools.compress.moreau``).

Which units go, at a target ``sparsity`` (fraction of the decoder blocks' parameters removed):

- only blocks ``[first, N - last)`` are pruned; the authors prune blocks 4..29 of LLaMA-7B's 32, so we keep
  ``first = round(4N/32)`` and ``last = round(2N/32)`` blocks (at least one each);
- every pruned block loses the same fraction ``r`` of its parameters on average; SmolLM2 has only 3 key-value
  groups per block, so removing ``round(r * 3)`` in every block would be far too coarse. The
  ``round(r * groups)`` least important key-value groups are therefore chosen across all pruned blocks
  (at least one kept per block), and MLP channels are removed uniformly per block, as many as needed to
  reach the parameter target exactly. Every method and precision gets the same budget split, so their
  masks are directly comparable.

Pruned blocks differ in shape, which a Hugging Face config cannot express: ``save_structured`` writes the
per-block head and channel counts to ``structure.json`` beside the weights, and ``load_structured`` rebuilds
the model from it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tools.common import DataNotFoundError, InputError
from tools.compress.decoder import block_params, layers_of

__all__ = (
    "STRUCTURE_FILE",
    "UnitScores",
    "PrunePlan",
    "prunable_blocks",
    "kv_group_size",
    "unit_scores",
    "plan_pruning",
    "apply_plan",
    "mask_overlap",
    "save_structured",
    "load_structured",
)

STRUCTURE_FILE = "structure.json"


@dataclass(frozen=True)
class UnitScores:
    """Importance of every prunable unit: block index -> ``(n_kv,)`` and ``(intermediate,)`` scores."""

    attn: dict[int, torch.Tensor]
    mlp: dict[int, torch.Tensor]


@dataclass(frozen=True)
class PrunePlan:
    """Units removed per block: key-value group indices and MLP channel indices (sorted)."""

    kv_groups: dict[int, list[int]]
    channels: dict[int, list[int]]

    def to_json(self) -> dict[str, Any]:
        return {
            "kv_groups": {str(k): v for k, v in self.kv_groups.items()},
            "channels": {str(k): v for k, v in self.channels.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PrunePlan:
        return cls({int(k): v for k, v in data["kv_groups"].items()}, {int(k): v for k, v in data["channels"].items()})


def prunable_blocks(n_blocks: int) -> range:
    """Blocks that may be pruned: all but the first ``round(4N/32)`` and last ``round(2N/32)`` (>= 1 each)."""
    first = max(1, round(4 * n_blocks / 32))
    last = max(1, round(2 * n_blocks / 32))
    return range(first, max(first, n_blocks - last))


def kv_group_size(block: nn.Module) -> tuple[int, int, int]:
    """``(n_kv, queries per kv head, head_dim)`` of a block as it is now (after any pruning)."""
    attn = block.self_attn
    head_dim = attn.head_dim
    n_kv = attn.k_proj.out_features // head_dim
    return n_kv, attn.q_proj.out_features // head_dim // n_kv, head_dim


def _rows(n_units: int, width: int) -> torch.Tensor:
    """``(n_units, width)`` index of the consecutive rows/columns owned by each unit."""
    return torch.arange(n_units * width).view(n_units, width)


def unit_scores(model: Any, grads: dict[str, torch.Tensor]) -> UnitScores:
    """Sum of ``|W ⊙ G|`` over each unit's weights, for the prunable blocks.

    Args:
        model: the decoder the gradients belong to.
        grads: ``G`` for each parameter name of ``model.named_parameters()`` (same shapes).
    """
    names = {id(p): n for n, p in model.named_parameters()}
    layers = layers_of(model)

    def elem(lin: nn.Linear, part: str = "weight") -> torch.Tensor:
        p = getattr(lin, part)
        return (p.detach() * grads[names[id(p)]]).abs()

    attn, mlp = {}, {}
    for b in prunable_blocks(len(layers)):
        block = layers[b]
        sa, m = block.self_attn, block.mlp
        n_kv, rep, hd = kv_group_size(block)
        q_rows, kv_rows = _rows(n_kv, rep * hd), _rows(n_kv, hd)
        s = elem(sa.q_proj).sum(1)[q_rows].sum(1) + elem(sa.o_proj).sum(0)[q_rows].sum(1)
        s = s + elem(sa.k_proj).sum(1)[kv_rows].sum(1) + elem(sa.v_proj).sum(1)[kv_rows].sum(1)
        for lin, rows in ((sa.q_proj, q_rows), (sa.k_proj, kv_rows), (sa.v_proj, kv_rows)):
            if lin.bias is not None:
                s = s + elem(lin, "bias")[rows].sum(1)
        attn[b] = s
        mlp[b] = elem(m.gate_proj).sum(1) + elem(m.up_proj).sum(1) + elem(m.down_proj).sum(0)
    return UnitScores(attn, mlp)


def _unit_params(block: nn.Module) -> tuple[int, int]:
    """Parameters of one key-value group and of one MLP channel of ``block``."""
    n_kv, _, _ = kv_group_size(block)
    sa, m = block.self_attn, block.mlp
    attn = sum(p.numel() for lin in (sa.q_proj, sa.k_proj, sa.v_proj) for p in lin.parameters())
    attn += sa.o_proj.weight.numel()
    chan = m.gate_proj.weight.numel() + m.up_proj.weight.numel() + m.down_proj.weight.numel()
    return attn // n_kv, chan // m.gate_proj.out_features


def plan_pruning(model: Any, scores: UnitScores, sparsity: float) -> PrunePlan:
    """Choose the units to remove so that ``sparsity`` of the block parameters go (see the module docstring).

    Raises:
        InputError: ``sparsity`` needs more than the prunable blocks hold.
    """
    layers = layers_of(model)
    blocks = list(scores.attn)
    target = sparsity * block_params(model)
    prunable = sum(sum(p.numel() for p in layers[b].parameters()) for b in blocks)
    n_kv = {b: kv_group_size(layers[b])[0] for b in blocks}
    attn_p, chan_p = _unit_params(layers[blocks[0]])
    inter = layers[blocks[0]].mlp.gate_proj.out_features
    most = sum((n_kv[b] - 1) * attn_p + (inter - 1) * chan_p for b in blocks)
    if target > most:
        raise InputError(
            "sparsity",
            sparsity,
            f"at most {most / block_params(model):.3f} for this model "
            f"(blocks {blocks[0]}..{blocks[-1]} are prunable; one head group and channel stay in each)",
        )
    ratio = target / prunable
    n_attn = min(round(ratio * sum(n_kv.values())), sum(n - 1 for n in n_kv.values()))
    ranked = sorted((scores.attn[b][g].item(), b, g) for b in blocks for g in range(n_kv[b]))
    kv_groups: dict[int, list[int]] = {b: [] for b in blocks}
    for _, b, g in ranked:
        if sum(len(v) for v in kv_groups.values()) == n_attn:
            break
        if len(kv_groups[b]) < n_kv[b] - 1:
            kv_groups[b].append(g)
    n_chan = max(0, round((target - n_attn * attn_p) / chan_p))
    n_chan = min(n_chan, len(blocks) * (inter - 1))
    per, extra = divmod(n_chan, len(blocks))
    channels = {}
    for i, b in enumerate(blocks):
        k = per + (1 if i < extra else 0)
        channels[b] = sorted(torch.argsort(scores.mlp[b])[:k].tolist())
    return PrunePlan({b: sorted(v) for b, v in kv_groups.items()}, channels)


def _slice_linear(lin: nn.Linear, keep: torch.Tensor, dim: int) -> nn.Linear:
    """A new ``nn.Linear`` holding only rows (``dim=0``) or columns (``dim=1``) ``keep`` of ``lin``."""
    w = lin.weight.detach().index_select(dim, keep)
    out = nn.Linear(w.shape[1], w.shape[0], bias=lin.bias is not None, device=w.device, dtype=w.dtype)
    with torch.no_grad():
        out.weight.copy_(w)
        if lin.bias is not None:  # a bias follows the output rows; column slicing leaves it whole
            out.bias.copy_(lin.bias.detach().index_select(0, keep) if dim == 0 else lin.bias.detach())
    return out


def _shrink_block(block: nn.Module, keep_groups: torch.Tensor | None, keep_channels: torch.Tensor | None) -> None:
    """Keep only key-value groups ``keep_groups`` and MLP channels ``keep_channels`` (``None``: keep all)."""
    sa, m = block.self_attn, block.mlp
    if keep_groups is not None:
        n_kv, rep, hd = kv_group_size(block)
        q_keep = _rows(n_kv, rep * hd)[keep_groups].reshape(-1)
        kv_keep = _rows(n_kv, hd)[keep_groups].reshape(-1)
        sa.q_proj, sa.o_proj = _slice_linear(sa.q_proj, q_keep, 0), _slice_linear(sa.o_proj, q_keep, 1)
        sa.k_proj, sa.v_proj = _slice_linear(sa.k_proj, kv_keep, 0), _slice_linear(sa.v_proj, kv_keep, 0)
    if keep_channels is not None:
        m.gate_proj, m.up_proj = (
            _slice_linear(m.gate_proj, keep_channels, 0),
            _slice_linear(m.up_proj, keep_channels, 0),
        )
        m.down_proj = _slice_linear(m.down_proj, keep_channels, 1)


def _complement(n: int, drop: list[int]) -> torch.Tensor:
    gone = set(drop)
    return torch.tensor([i for i in range(n) if i not in gone], dtype=torch.long)


def apply_plan(model: Any, plan: PrunePlan) -> None:
    """Remove the planned units in place (new, smaller ``nn.Linear`` modules)."""
    layers = layers_of(model)
    for b in sorted(set(plan.kv_groups) | set(plan.channels)):
        block = layers[b]
        groups, chans = plan.kv_groups.get(b, []), plan.channels.get(b, [])
        _shrink_block(
            block,
            _complement(kv_group_size(block)[0], groups) if groups else None,
            _complement(block.mlp.gate_proj.out_features, chans) if chans else None,
        )


def mask_overlap(a: PrunePlan, b: PrunePlan) -> dict[str, float]:
    """Fraction of ``a``'s removed units that ``b`` removes too, for head groups, channels and both."""

    def units(p: PrunePlan, kind: str) -> set[tuple[int, int]]:
        src = p.kv_groups if kind == "kv_groups" else p.channels
        return {(blk, u) for blk, us in src.items() for u in us}

    out = {}
    for kind in ("kv_groups", "channels"):
        ua, ub = units(a, kind), units(b, kind)
        out[kind] = len(ua & ub) / len(ua) if ua else 1.0
    return out


def save_structured(model: Any, tokenizer: Any, path: str | os.PathLike[str], meta: dict[str, Any]) -> Path:
    """Weights, config, tokenizer and ``structure.json`` (per-block head groups and channels, plus ``meta``)."""
    path = Path(path)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    shapes = []
    for block in layers_of(model):
        n_kv, _, _ = kv_group_size(block)
        shapes.append({"kv_heads": n_kv, "intermediate": block.mlp.gate_proj.out_features})
    (path / STRUCTURE_FILE).write_text(json.dumps({"blocks": shapes, **meta}, indent=1))
    return path


def load_structured(path: str | os.PathLike[str], device: str = "cpu") -> tuple[Any, Any]:
    """``(model, tokenizer)`` from a folder written by ``save_structured``: shrink a fresh model, load weights."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise DataNotFoundError(f"{weights} is missing: this folder was not written by prune_structured")
    config = AutoConfig.from_pretrained(path)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    shapes = json.loads((path / STRUCTURE_FILE).read_text())["blocks"]
    for block, shape in zip(layers_of(model), shapes, strict=True):
        _shrink_block(block, torch.arange(shape["kv_heads"]), torch.arange(shape["intermediate"]))
    state = load_file(str(weights))
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise DataNotFoundError(
            f"{weights} does not match {STRUCTURE_FILE}: missing {missing}, unexpected {unexpected}"
        )
    return model.to(device).eval(), AutoTokenizer.from_pretrained(path)
