"""Zero-shot *proxy* tasks built from held-out text, scored by log-likelihood like lm-evaluation-harness.

The papers report zero-shot accuracy on BoolQ, PIQA, HellaSwag, ARC... which do not ship offline. These two
tasks are built from the held-out documents instead and are named as proxies everywhere they are reported:

- ``cloze`` (last-word cloze, in the spirit of LAMBADA, Paperno et al. 2016): a sentence without its last word;
  the options are the true last word and three last words of other sentences; the model picks the option with
  the highest total log-probability.
- ``next_sentence`` (in the spirit of HellaSwag's continuation choice, Zellers et al. 2019): a sentence; the
  options are the sentence that follows it in the same document and three sentences from other documents;
  the pick maximises log-probability per character of the option (lm-evaluation-harness's ``acc_norm``).

Chance level is 25 % for both.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ("ProxyItem", "N_OPTIONS", "build_cloze", "build_next_sentence", "proxy_accuracy")

N_OPTIONS = 4
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PROSE = re.compile(r"^[A-Z][A-Za-z0-9 ,;'()\-]+[a-z][.!?]$")
_LAST_WORD = re.compile(r"^(.*\S)\s+([A-Za-z]{3,})[.!?]$")


@dataclass(frozen=True)
class ProxyItem:
    """One multiple-choice item: the context, the options (continuations) and the index of the right one."""

    context: str
    options: tuple[str, ...]
    answer: int


def _prose_runs(doc: str) -> list[list[str]]:
    """Runs of consecutive prose sentences of a document (code, grammar rules and headings break a run)."""
    runs: list[list[str]] = [[]]
    for para in doc.split("\n\n"):
        for sent in _SENTENCE_END.split(" ".join(para.split())):
            if 6 <= len(sent.split()) <= 40 and _PROSE.match(sent):
                runs[-1].append(sent)
            elif runs[-1]:
                runs.append([])
    return [run for run in runs if run]


def build_cloze(docs: tuple[str, ...] | list[str], n: int, seed: int = 0) -> list[ProxyItem]:
    """Up to ``n`` last-word cloze items (context = sentence minus its last word)."""
    pairs = [(m[1], m[2]) for doc in docs for run in _prose_runs(doc) for s in run if (m := _LAST_WORD.match(s))]
    rng = random.Random(seed)
    rng.shuffle(pairs)
    words = sorted({w for _, w in pairs})
    items = []
    for context, word in pairs[:n]:
        distractors = rng.sample([w for w in words if w.lower() != word.lower()], N_OPTIONS - 1)
        options = [word, *distractors]
        rng.shuffle(options)
        items.append(ProxyItem(context, tuple(" " + o for o in options), options.index(word)))
    return items


def build_next_sentence(docs: tuple[str, ...] | list[str], n: int, seed: int = 0) -> list[ProxyItem]:
    """Up to ``n`` next-sentence items; distractors come from other documents."""
    runs = [_prose_runs(doc) for doc in docs]
    per_doc = [[s for run in doc_runs for s in run] for doc_runs in runs]
    pairs = [(d, r[i], r[i + 1]) for d, doc_runs in enumerate(runs) for r in doc_runs for i in range(len(r) - 1)]
    rng = random.Random(seed)
    rng.shuffle(pairs)
    items = []
    for d, first, second in pairs[:n]:
        others = [s for e, sents in enumerate(per_doc) if e != d for s in sents]
        if len(others) < N_OPTIONS - 1:
            break
        options = [second, *rng.sample(others, N_OPTIONS - 1)]
        rng.shuffle(options)
        items.append(ProxyItem(first, tuple(" " + o for o in options), options.index(second)))
    return items


@torch.no_grad()
def _option_logprobs(model: Any, tokenizer: Any, item: ProxyItem) -> torch.Tensor:
    """``(N_OPTIONS,)`` total log-probability of each option's tokens given the context."""
    ctx = tokenizer(item.context, add_special_tokens=False)["input_ids"]
    opts = [tokenizer(o, add_special_tokens=False)["input_ids"] for o in item.options]
    length = len(ctx) + max(len(o) for o in opts)
    pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    ids = torch.full((len(opts), length), pad, dtype=torch.long)
    for row, opt in enumerate(opts):
        ids[row, : len(ctx) + len(opt)] = torch.tensor(ctx + opt)
    logp = F.log_softmax(model(input_ids=ids.to(model.device)).logits[:, :-1].float().cpu(), dim=-1)  # (O, L-1, V)
    token_logp = logp.gather(-1, ids[:, 1:, None])[..., 0]  # (O, L-1): log p(ids[t+1] | ids[:t+1])
    out = torch.empty(len(opts))
    for row, opt in enumerate(opts):
        out[row] = token_logp[row, len(ctx) - 1 : len(ctx) - 1 + len(opt)].sum()
    return out


def proxy_accuracy(model: Any, tokenizer: Any, items: list[ProxyItem], per_char: bool) -> float:
    """Fraction of items whose right option scores highest (per character of the option if ``per_char``)."""
    if not items:
        return float("nan")
    right = 0
    for item in items:
        scores = _option_logprobs(model, tokenizer, item)
        if per_char:
            scores = scores / torch.tensor([len(o) for o in item.options], dtype=scores.dtype)
        right += int(scores.argmax().item() == item.answer)
    return right / len(items)
