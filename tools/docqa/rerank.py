"""A late-interaction reranker distilled from a relevance teacher, fast enough for a shared 2-core CPU.

Why not a cross-encoder: scoring 20 (query, piece) pairs of 128 tokens costs 59 ms with a *single* MiniLM
layer here and 0.76 s with all six (measured at load 6 on this machine), far over a 100 ms query budget.
A late-interaction model (ColBERT: Khattab & Zaharia, SIGIR 2020) keeps MiniLM's contextual token states
but encodes the documents once, at indexing time: a query costs one short encoder pass, which the dense
retriever needs anyway, plus MaxSim ``s(q, d) = mean_i max_j <q_i, d_j>`` over unit token vectors
projected by a learned ``W`` (384 -> 128, ColBERT's dimension). Qdrant stores the document token vectors
as a multivector with the MAX_SIM comparator and scores them.

Distillation (RAG-EDA distils its reranker from GPT-4 relevance scores on a 0-100 rubric): for each
training query the student's scores over its candidate pieces are fitted to the teacher's with a listwise
KL divergence (Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015) between
``softmax(teacher / 10)`` and ``softmax(student / 0.05)``. The teacher is any callable
``(query, [texts]) -> [0..100]``: an LLM with RAG-EDA's rubric when one is configured, otherwise the
offline teacher of the pseudo-queries (100 for pieces of the section the query was generated from, 0
for the rest). ``W`` starts as the PCA basis of the token states (so the untrained reranker is already
cosine MaxSim) and is the only trained part; the encoder stays the embedder, frozen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tools.common import ProgressFn, report
from tools.docqa.chunks import Piece
from tools.docqa.encode import encode_texts
from tools.docqa.lexical import Bm25, tokenize
from tools.docqa.pseudo import PseudoQuery
from tools.embedding import Embedder

if TYPE_CHECKING:
    import torch

__all__ = ("Teacher", "offline_teacher", "train_reranker", "load_projection", "save_projection", "maxsim", "LATE_DIM")

LATE_DIM = 128  # ColBERT's token vector size (Khattab & Zaharia 2020, section 4.1)
TEACHER_T = 10.0  # teacher softmax temperature on the 0-100 rubric scale: 20 points apart = e^2 odds
STUDENT_T = 0.05  # student temperature on mean cosines, as in SimCSE's tau

Teacher = Callable[[str, Sequence[str]], Sequence[float]]
"""``teacher(query, candidate_texts) -> relevance scores in [0, 100]`` (RAG-EDA's rubric scale)."""


def offline_teacher(positive_texts: dict[str, set[str]]) -> Teacher:
    """Labels from the pseudo-queries themselves: a piece of the query's own section is 100, others 0."""

    def score(query: str, texts: Sequence[str]) -> list[float]:
        own = positive_texts.get(query, set())
        return [100.0 if t in own else 0.0 for t in texts]

    return score


def maxsim(q: np.ndarray, d: np.ndarray) -> float:
    """``mean_i max_j <q_i, d_j>`` for unit token vectors ``q (Tq, p)`` and ``d (Td, p)``."""
    if len(q) == 0 or len(d) == 0:
        return 0.0
    return float((q @ d.T).max(axis=1).mean())


def save_projection(path: Path, projection: np.ndarray, info: dict[str, float | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, projection=projection.astype(np.float32), **{k: np.array(v) for k, v in info.items()})


def load_projection(path: Path) -> np.ndarray:
    with np.load(path) as data:
        return data["projection"].astype(np.float32)


def train_reranker(
    embedder: Embedder,
    pieces: Sequence[Piece],
    queries: Sequence[PseudoQuery],
    teacher: Teacher | None = None,
    candidates: int = 16,
    epochs: int = 4,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Fit the projection ``W (dim, 128)`` so MaxSim ranks each query's candidates like the teacher.

    Args:
        embedder: the (frozen) encoder whose token states are projected; the index must use the same one.
        pieces: the documentation pieces to rank.
        queries: training queries with the section they come from (never benchmark questions).
        teacher: relevance scorer; default: the offline pseudo-query teacher.
        candidates: pieces per query: the first-stage top (BM25 and dense) plus the query's own piece.
        epochs, batch_size, lr: Adam schedule over the queries.
        seed: shuffling seed.

    Returns:
        (projection, statistics: loss before/after, teacher-top-1 accuracy before/after on the training lists)
    """
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    texts = [p.text for p in pieces]
    report(progress, "encoding pieces for the reranker", 0.0)
    pooled, states = encode_texts(embedder, texts, projection=np.eye(embedder.dim, dtype=np.float32), skip_punctuation=True)
    assert states is not None
    qtexts = [q.text for q in queries]
    qpooled, qstates = encode_texts(embedder, qtexts, projection=np.eye(embedder.dim, dtype=np.float32), max_len=64)
    assert qstates is not None
    report(progress, "scoring candidates with the teacher", 0.3)
    by_section: dict[str, list[int]] = {}
    for i, p in enumerate(pieces):
        by_section.setdefault(p.parent_id, []).append(i)
    if teacher is None:
        teacher = offline_teacher({q.text: {texts[i] for i in by_section.get(q.chunk_id, [])} for q in queries})
    bm25 = Bm25([tokenize(t) for t in texts])
    lists: list[tuple[int, list[int], np.ndarray]] = []
    for qi, q in enumerate(queries):
        own = by_section.get(q.chunk_id, [])
        if not own:
            continue
        lexical = np.argsort(-bm25.scores(q.text))[:candidates]
        dense = np.argsort(-(pooled @ qpooled[qi]))[:candidates]
        best_own = max(own, key=lambda i: float(pooled[i] @ qpooled[qi]))
        pool = list(dict.fromkeys([best_own, *[int(i) for pair in zip(lexical, dense) for i in pair]]))[:candidates]
        labels = np.asarray(teacher(q.text, [texts[i] for i in pool]), np.float64)
        if labels.max() - labels.min() < 1e-9:
            continue  # nothing to learn from a list the teacher cannot tell apart
        lists.append((qi, pool, labels))
    if not lists:
        raise ValueError("no training lists: the teacher scored every candidate list flat")

    proj = torch.tensor(_pca_basis(states, LATE_DIM, rng), requires_grad=True)
    opt = torch.optim.Adam([proj], lr=lr)
    dstate = [torch.from_numpy(s) for s in states]
    qstate = [torch.from_numpy(s) for s in qstates]

    def list_loss(batch: list[tuple[int, list[int], np.ndarray]]) -> tuple[torch.Tensor, float]:
        q, qmask = _pad([qstate[qi] for qi, _, _ in batch])  # (B, Tq, dim), (B, Tq)
        width = max(len(pool) for _, pool, _ in batch)
        docs = [dstate[i] for _, pool, _ in batch for i in pool]
        d, dmask = _pad(docs)  # (N, Td, dim) with N = sum of list lengths
        qp = torch.nn.functional.normalize(q @ proj, dim=-1)  # (B, Tq, p)
        dp = torch.nn.functional.normalize(d @ proj, dim=-1)  # (N, Td, p)
        owner = torch.tensor([b for b, (_, pool, _) in enumerate(batch) for _ in pool])  # (N,)
        sim = torch.einsum("nqp,ntp->nqt", qp[owner], dp)  # (N, Tq, Td)
        sim = sim.masked_fill(~dmask[:, None, :], -2.0).max(dim=2).values  # best document token per query token
        per_doc = (sim * qmask[owner]).sum(1) / qmask[owner].sum(1)  # (N,) mean over query tokens
        student = torch.full((len(batch), width), -1e4)
        target = torch.zeros((len(batch), width))
        start = 0
        hits = 0
        for b, (_, pool, labels) in enumerate(batch):
            student[b, : len(pool)] = per_doc[start : start + len(pool)] / STUDENT_T
            target[b, : len(pool)] = torch.softmax(torch.tensor(labels / TEACHER_T, dtype=torch.float32), dim=0)
            hits += int(labels[int(torch.argmax(student[b, : len(pool)]))] == labels.max())
            start += len(pool)
        loss = torch.nn.functional.kl_div(torch.log_softmax(student, 1), target, reduction="batchmean")
        return loss, hits / len(batch)

    with torch.no_grad():
        loss0, acc0 = _mean_loss(list_loss, lists, batch_size)
    order = np.arange(len(lists))
    steps = epochs * ((len(lists) + batch_size - 1) // batch_size)
    step = 0
    for _ in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            loss, _ = list_loss([lists[i] for i in order[start : start + batch_size]])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            report(progress, f"training reranker {step}/{steps}", 0.3 + 0.7 * step / steps)
    with torch.no_grad():
        loss1, acc1 = _mean_loss(list_loss, lists, batch_size)
    stats = {"lists": float(len(lists)), "loss_before": float(loss0), "loss_after": float(loss1), "top1_before": acc0, "top1_after": acc1}
    return proj.detach().numpy().astype(np.float32), stats


def _mean_loss(fn: Callable[[list], tuple[torch.Tensor, float]], lists: list, batch_size: int) -> tuple[float, float]:
    """Loss and top-1 agreement over all lists, batch by batch (memory stays at one batch)."""
    losses, accs, sizes = [], [], []
    for start in range(0, len(lists), batch_size):
        chunk = lists[start : start + batch_size]
        loss, acc = fn(chunk)
        losses.append(float(loss) * len(chunk))
        accs.append(acc * len(chunk))
        sizes.append(len(chunk))
    return sum(losses) / sum(sizes), sum(accs) / sum(sizes)


def _pad(mats: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ``(T_i, dim)`` tensors into ``(n, max T, dim)`` with a boolean mask of real rows."""
    import torch

    width = max(1, max(len(m) for m in mats))
    out = torch.zeros((len(mats), width, mats[0].shape[1]))
    mask = torch.zeros((len(mats), width), dtype=torch.bool)
    for i, m in enumerate(mats):
        out[i, : len(m)] = m
        mask[i, : len(m)] = True
    return out, mask


def _pca_basis(states: Sequence[np.ndarray], k: int, rng: np.random.Generator) -> np.ndarray:
    """Top-``k`` principal directions ``(dim, k)`` of a sample of token states."""
    stacked = np.concatenate([s for s in states if len(s)], axis=0)
    sample = stacked[rng.choice(len(stacked), size=min(len(stacked), 20000), replace=False)]
    centred = sample - sample.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[:k].T.astype(np.float32).copy()
