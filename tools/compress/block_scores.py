"""Block importance: FuseGPT's Macro Influence and ShortGPT's Block Influence.

- Macro Influence (FuseGPT, Pan et al., arXiv 2411.14507, Sec. 3.1): remove block ``i``, run the rest of the
  model to the end, and compare the last block's output with the full model's:
  ``MI_i = 1 - mean over tokens of cos(h_L, h_L^{without i})``. It sees how an error propagates through every
  later block. The authors' code compares the last decoder block's outputs (before the final norm); so do we.
- Block Influence (ShortGPT, Men et al., arXiv 2403.03853, Eq. 1): ``BI_i = 1 - mean over tokens of
  cos(x_i, x_{i+1})`` between a block's input and output; a purely local score, computed in one pass.

- SLEB (Song et al., arXiv 2402.09025, Sec. 4): remove block ``i`` and measure the language-modelling loss
  (log perplexity) of the whole model on the calibration windows; the block whose removal raises it least goes.
  SLEB re-scores after every removal, as MI does (the caller iterates).

All three are "low = safe to remove". Shapes: token ids ``(B, T)``, hidden states ``(B, T, D)``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from tools.common import ProgressFn, report
from tools.compress.decoder import block_inputs, layers_of, lm_logits, run_layers

__all__ = ("macro_influence", "block_influence", "sleb_scores", "mean_cosine")


def mean_cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over tokens of the cosine similarity of ``(B, T, D)`` hidden states, in float64."""
    return F.cosine_similarity(a.double(), b.double(), dim=-1).mean().item()


@torch.no_grad()
def macro_influence(model: Any, ids: torch.Tensor, progress: ProgressFn | None = None) -> list[float]:
    """``MI_i`` for every block ``i`` of the model on calibration windows ``ids`` ``(B, T)``.

    Cost: one full pass to cache every block's input, then for block ``i`` the ``N - 1 - i`` blocks after it,
    about ``N^2 / 2`` block evaluations in all.
    """
    states, ctx = block_inputs(model, ids)
    layers = layers_of(model)
    full = states[-1]
    scores = []
    for i in range(len(layers)):
        out = run_layers(layers[i + 1 :], states[i], ctx)  # skip block i: its input goes on to block i+1
        scores.append(1.0 - mean_cosine(full, out))
        report(progress, f"macro influence of block {i}", (i + 1) / len(layers))
    return scores


@torch.no_grad()
def block_influence(model: Any, ids: torch.Tensor) -> list[float]:
    """``BI_i`` for every block on calibration windows ``ids`` ``(B, T)``, from one forward pass."""
    states, _ = block_inputs(model, ids)
    return [1.0 - mean_cosine(states[i], states[i + 1]) for i in range(len(states) - 1)]


@torch.no_grad()
def sleb_scores(model: Any, ids: torch.Tensor, progress: ProgressFn | None = None) -> list[float]:
    """SLEB's score of every block: the mean next-token loss on ``ids`` ``(B, T)`` with that block removed.

    Same cost as ``macro_influence`` plus one LM-head pass per block.
    """
    states, ctx = block_inputs(model, ids)
    layers = layers_of(model)
    scores = []
    for i in range(len(layers)):
        logits = lm_logits(model, run_layers(layers[i + 1 :], states[i], ctx))[:, :-1].float()
        scores.append(F.cross_entropy(logits.flatten(0, 1), ids[:, 1:].flatten()).item())
        report(progress, f"SLEB loss without block {i}", (i + 1) / len(layers))
    return scores
