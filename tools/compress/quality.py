"""The one quality measurement every LLM compression tool reports.

``measure`` turns a model into a ``ModelQuality`` (held-out perplexity, the two proxy accuracies, parameters,
size, CPU prefill latency) within the budget of an ``EvalArgs`` (both in ``tools.compress.args``), so that every
method is scored by the same code on the same held-out windows.
"""

from __future__ import annotations

from typing import Any

import torch

from tools.common import ProgressFn, report
from tools.compress.args import EvalArgs, ModelQuality
from tools.compress.corpus import TextSplit, load_split, windows
from tools.compress.decoder import block_params, count_params, layers_of
from tools.compress.metrics import latency_ms, perplexity
from tools.compress.proxies import build_cloze, build_next_sentence, proxy_accuracy

__all__ = ("measure",)

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
    extra: dict[str, float] = {}
    if args.eval_tokens:
        n = max(1, args.eval_tokens // args.eval_seq_len)
        ppl = perplexity(
            model, windows(heldout, args.eval_seq_len, n), progress=lambda m, f: report(progress, m, 0.6 * f)
        )
        for corpus in args.extra_corpora:
            _, _, other = load_split(tokenizer, corpus)
            count = min(n, other.numel() // args.eval_seq_len)
            extra[corpus] = perplexity(model, windows(other, args.eval_seq_len, count))
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
        extra_perplexity=extra,
        cloze_acc=cloze,
        next_sentence_acc=nxt,
        params=n_params,
        block_params=block_params(model),
        blocks=len(layers_of(model)),
        size_mb=n_params * 4 / 2**20,
        latency_ms=lat,
    )
