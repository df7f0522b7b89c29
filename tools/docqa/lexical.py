"""BM25 as Qdrant sparse vectors, with a tokenizer that keeps Tcl command and option names whole.

Okapi BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009, eq. 3.15)
scores ``sum_t idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl))``. The document side of that product
is stored as the sparse vector's values; Qdrant's ``Modifier.IDF`` multiplies each query term by
``idf(t) = ln((N - df + 0.5) / (df + 0.5) + 1)`` from the live collection, so the dot product is BM25.

Tokens: lower-cased words, with identifiers kept whole *and* split (``set_routing_alpha`` gives
``set_routing_alpha``, ``set``, ``routing``, ``alpha``) and options kept with their dash (``-density`` gives
``-density`` and ``density``), so an exact command or option name is a rare, heavily weighted term while
its parts still match prose. English stop words are dropped and plural ``s`` is removed with Harman's
S-stemmer ("How effective is suffixing?", JASIS 42(1), 1991).

Pseudo-relevance feedback (RM3: Lavrenko & Croft, "Relevance-Based Language Models", SIGIR 2001, with the
original query interpolated as in Abdul-Jaleel et al., "UMass at TREC 2004") expands a query with the
terms of its first-pass top pieces, so a long user question reaches sections that share the topic but
not its wording. The settings are Anserini's defaults (10 feedback pieces, 10 terms, original-query
weight 0.5), not tuned here; whether feedback is used was decided on the development set.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter

import numpy as np

__all__ = ("tokenize", "term_id", "doc_sparse", "query_sparse", "feedback_weights", "weighted_sparse", "Bm25", "K1", "B")

K1 = 1.2  # Robertson & Zaragoza 2009, section 3.4: k1 in [1.2, 2.0], b = 0.75 are the usual defaults
B = 0.75
FB_DOCS = 10  # Anserini's RM3 defaults (fbDocs, fbTerms, originalQueryWeight)
FB_TERMS = 10
FB_ORIGINAL = 0.5

_RAW = re.compile(r"-{0,2}[a-z0-9_]+(?:\.[a-z0-9_]+)*")
# A compact English stop list (function words only; domain words such as "set", "place" must stay).
_STOP = frozenset(
    """a an and are as at be been being but by can could did do does doing for from had has have how i if in
    into is it its itself me my of on or our should so such than that the their them then there these they
    this those to too use used using was we were what when where which while who whom why will with would
    you your yours about after again also any because before between both each few further here just more
    most no nor not now only other own same some very all am""".split()
)


def _s_stem(word: str) -> str:
    """Harman's S-stemmer: -ies -> -y, -es -> -e, -s -> '' with her three exceptions each."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Index terms of ``text`` in order (an identifier yields itself and its parts)."""
    out: list[str] = []
    for raw in _RAW.findall(text.lower()):
        core = raw.lstrip("-")
        if not core:
            continue
        if raw.startswith("-") and core[0].isalpha():
            out.append("-" + core)
        parts = [p for p in re.split(r"[_.]", core) if p]
        if len(parts) > 1:
            out.append(core)
        for part in parts:
            if part not in _STOP:
                out.append(_s_stem(part))
    return out


def term_id(term: str) -> int:
    """A stable 31-bit index for a term (CRC-32), so no vocabulary has to be stored with the index."""
    return zlib.crc32(term.encode()) & 0x7FFFFFFF


def doc_sparse(tokens: list[str], avgdl: float, k1: float = K1, b: float = B) -> tuple[list[int], list[float]]:
    """Document-side BM25 weights ``tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl))`` as (indices, values)."""
    counts = Counter(tokens)
    norm = k1 * (1.0 - b + b * len(tokens) / max(avgdl, 1e-9))
    indices, values = [], []
    for term, tf in sorted(counts.items()):
        indices.append(term_id(term))
        values.append(tf * (k1 + 1.0) / (tf + norm))
    return _dedupe(indices, values)


def query_sparse(text: str) -> tuple[list[int], list[float]]:
    """Query side: each distinct term once (Qdrant multiplies it by the term's IDF)."""
    return weighted_sparse(dict.fromkeys(tokenize(text), 1.0))


def feedback_weights(
    query: str, feedback: list[tuple[str, float]], terms: int = FB_TERMS, original: float = FB_ORIGINAL
) -> dict[str, float]:
    """RM3 query-term weights from the first pass's best pieces ``(text, BM25 score)``, best first.

    ``P(t | R) = sum_D P(D | Q) tf(t, D) / |D|`` with ``P(D | Q)`` the softmax of the scores (the posterior of
    a query-likelihood model, Lavrenko & Croft 2001); the top ``terms`` of it, renormalised, are mixed with
    the original terms (uniform) as ``original * P(t | Q) + (1 - original) * P(t | R)``.
    """
    qterms = sorted(set(tokenize(query)))
    if not qterms:
        return {}
    weights = {t: original / len(qterms) for t in qterms}
    docs = [(tokenize(text), score) for text, score in feedback[:FB_DOCS]]
    docs = [(toks, score) for toks, score in docs if toks]
    if not docs:
        return {t: 1.0 / len(qterms) for t in qterms}
    top = max(score for _, score in docs)
    posterior = np.exp(np.array([score - top for _, score in docs]))
    posterior /= posterior.sum()
    relevance: Counter[str] = Counter()
    for (toks, _), p_doc in zip(docs, posterior):
        for term, tf in Counter(toks).items():
            relevance[term] += float(p_doc) * tf / len(toks)
    best = relevance.most_common(terms)
    total = sum(v for _, v in best)
    for term, v in best:
        weights[term] = weights.get(term, 0.0) + (1.0 - original) * v / total
    return weights


def weighted_sparse(weights: dict[str, float]) -> tuple[list[int], list[float]]:
    """A query sparse vector with per-term weights (Qdrant still multiplies each by its IDF)."""
    terms = sorted(weights)
    return _dedupe([term_id(t) for t in terms], [weights[t] for t in terms])


def _dedupe(indices: list[int], values: list[float]) -> tuple[list[int], list[float]]:
    """Merge CRC collisions (two terms, one index) by adding their weights; Qdrant needs unique indices."""
    merged: dict[int, float] = {}
    for i, v in zip(indices, values):
        merged[i] = merged.get(i, 0.0) + v
    keys = sorted(merged)
    return keys, [merged[k] for k in keys]


class Bm25:
    """The same BM25 in memory, for small jobs that need no index (training candidates, sentence picking)."""

    def __init__(self, docs: list[list[str]], k1: float = K1, b: float = B):
        self.n = len(docs)
        avgdl = sum(len(d) for d in docs) / max(self.n, 1)
        df: Counter[str] = Counter()
        for d in docs:
            df.update(set(d))
        # Same IDF as Qdrant's Modifier.IDF: ln((N - df + 0.5) / (df + 0.5) + 1)
        self.idf = {t: math.log((self.n - c + 0.5) / (c + 0.5) + 1.0) for t, c in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for i, d in enumerate(docs):
            norm = k1 * (1.0 - b + b * len(d) / max(avgdl, 1e-9))
            for t, tf in Counter(d).items():
                self.postings.setdefault(t, []).append((i, tf * (k1 + 1.0) / (tf + norm)))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query``, shape ``(n_docs,)``."""
        out = np.zeros(self.n, np.float64)
        for t in set(tokenize(query)):
            for i, w in self.postings.get(t, ()):
                out[i] += self.idf[t] * w
        return out
