"""Retrieval and answer metrics for documentation QA: recall@k, MRR, BLEU, ROUGE-L. Pure functions.

- recall@k: the fraction of a question's gold chunks found in the top k (ORD-QA's definition), averaged
  over questions by the caller.
- reciprocal rank: ``1 / rank`` of the first gold chunk, 0 when none is retrieved (Voorhees, TREC-8 QA
  track, 1999); its mean is MRR.
- BLEU: corpus-level BLEU-4 (Papineni, Roukos, Ward & Zhu, ACL 2002): the geometric mean of clipped n-gram
  precisions for n = 1..4 with uniform weights, times the brevity penalty ``exp(1 - r / c)`` when the
  candidate length ``c`` is below the reference length ``r``; reported in 0..100 like sacreBLEU.
- ROUGE-L: the LCS F-measure of Lin ("ROUGE: A Package for Automatic Evaluation of Summaries", 2004,
  section 3.1) with ``beta = 1`` (the F1 the ``rouge-score`` package reports), on lower-cased
  alphanumeric tokens; 0..1, averaged over questions by the caller.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

__all__ = ("recall_at_k", "reciprocal_rank", "corpus_bleu", "rouge_l", "bleu_tokens", "rouge_tokens")

_BLEU_TOKEN = re.compile(r"\w+|[^\w\s]")


def recall_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    """|gold in top k| / |gold|."""
    if not gold:
        raise ValueError("recall@k needs at least one gold id")
    wanted = set(gold)
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def reciprocal_rank(ranked: Sequence[str], gold: Sequence[str]) -> float:
    wanted = set(gold)
    for rank, item in enumerate(ranked, start=1):
        if item in wanted:
            return 1.0 / rank
    return 0.0


def bleu_tokens(text: str) -> list[str]:
    """Words and punctuation marks, case kept (close to sacreBLEU's 13a tokenizer)."""
    return _BLEU_TOKEN.findall(text)


def rouge_tokens(text: str) -> list[str]:
    """Lower-cased alphanumeric runs (the rouge-score package's default tokenizer, without stemming)."""
    return re.findall(r"[a-z0-9]+", text.lower())


def corpus_bleu(candidates: Sequence[str], references: Sequence[str], max_n: int = 4) -> float:
    """Corpus BLEU-4 in 0..100, one reference per candidate."""
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} references")
    matches = [0] * max_n
    totals = [0] * max_n
    cand_len = ref_len = 0
    for cand, ref in zip(candidates, references):
        c, r = bleu_tokens(cand), bleu_tokens(ref)
        cand_len += len(c)
        ref_len += len(r)
        for n in range(1, max_n + 1):
            cn = Counter(tuple(c[i : i + n]) for i in range(len(c) - n + 1))
            rn = Counter(tuple(r[i : i + n]) for i in range(len(r) - n + 1))
            matches[n - 1] += sum(min(v, rn[g]) for g, v in cn.items())
            totals[n - 1] += max(len(c) - n + 1, 0)
    if cand_len == 0 or min(matches) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    bp = 1.0 if cand_len > ref_len else math.exp(1.0 - ref_len / cand_len)
    return 100.0 * bp * math.exp(log_p)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 of one candidate against one reference."""
    c, r = rouge_tokens(candidate), rouge_tokens(reference)
    if not c or not r:
        return 0.0
    lcs = _lcs(c, r)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(c), lcs / len(r)
    return 2 * precision * recall / (precision + recall)


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (row-by-row dynamic programme, O(len(a) len(b)))."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]
