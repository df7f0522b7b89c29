"""Quality and cost of a (compressed) causal LM: held-out perplexity, size and CPU latency.

Perplexity follows the GPTQ/LLM-Pruner protocol: the held-out token stream is cut into non-overlapping
windows of ``seq_len`` tokens, every window is scored independently, and
``ppl = exp(mean over all predicted tokens of -log p(token | window prefix))``.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

import torch
import torch.nn.functional as F

from tools.common import ProgressFn, report

__all__ = ("perplexity", "latency_ms", "generate_text")


@torch.no_grad()
def perplexity(model: Any, windows: torch.Tensor, batch_size: int = 4, progress: ProgressFn | None = None) -> float:
    """Perplexity of ``model`` on ``(N, T)`` token windows (each scored from its own start)."""
    nll, count = 0.0, 0
    for start in range(0, windows.shape[0], batch_size):
        ids = windows[start : start + batch_size].to(model.device)
        logits = model(input_ids=ids).logits[:, :-1].float()  # (B, T-1, V)
        nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="sum").item()
        count += ids[:, 1:].numel()
        report(progress, f"perplexity {start + ids.shape[0]}/{windows.shape[0]} windows", start / windows.shape[0])
    return math.exp(nll / count)


@torch.no_grad()
def latency_ms(model: Any, seq_len: int = 128, repeats: int = 3) -> float:
    """Median wall time of one forward pass over a ``(1, seq_len)`` prompt (prefill), after one warm-up."""
    ids = torch.randint(0, model.config.vocab_size, (1, seq_len), generator=torch.Generator().manual_seed(0))
    ids = ids.to(model.device)
    model(input_ids=ids)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(input_ids=ids)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


@torch.no_grad()
def generate_text(model: Any, tokenizer: Any, prompt: str, max_new_tokens: int = 20) -> str:
    """Greedy continuation of ``prompt`` (with the KV cache), to show that a saved model still generates."""
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"].to(model.device)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out = model.generate(
        input_ids=ids, max_new_tokens=max_new_tokens, do_sample=False, use_cache=True, pad_token_id=pad
    )
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
