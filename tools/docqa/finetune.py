"""Contrastive fine-tuning of the MiniLM embedder, as RAG-EDA's retriever is trained, on the CPU in minutes.

Loss: supervised SimCSE (Gao, Yao & Chen, "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
EMNLP 2021, eq. 5): for anchors ``h_i``, positives ``h_i+`` and hard negatives ``h_i-`` in a batch,
``-log exp(sim(h_i, h_i+)/tau) / sum_j [exp(sim(h_i, h_j+)/tau) + exp(sim(h_i, h_j-)/tau)]`` with cosine
``sim`` and ``tau = 0.05`` (the paper's value): every other positive is an in-batch negative.

Two kinds of triples share the loss, in alternating batches:
- RAG-EDA's ``embedding_contrastive_corpus.csv`` (question, paraphrase, same question with the key EDA term
  swapped), which teaches the model EDA terminology;
- documentation pseudo-queries (``tools.docqa.pseudo``) with their section piece as positive and the best
  BM25-ranked piece of another section as hard negative, which adapts it to question -> documentation
  matching. Neither contains benchmark questions (the caller may also pass texts to exclude).

The result is a transformers model folder that ``tools.embedding.Embedder`` loads like the base model.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.common import ProgressFn, report
from tools.docqa.chunks import Piece
from tools.docqa.lexical import Bm25, tokenize
from tools.docqa.pseudo import PseudoQuery

ICT_KEEP = 0.1  # Lee et al. 2019 leave the query sentence in its context 10% of the time

__all__ = ("Triple", "load_contrastive_csv", "normalize_question", "doc_triples", "finetune_embedder", "TAU")

TAU = 0.05  # SimCSE temperature (Gao et al. 2021, section 3)
_ARTIFACT = re.compile(r"\b(task \d|in the sentence|replace\b.*\bwith\b|sent\d)", re.I)


@dataclass(frozen=True)
class Triple:
    anchor: str
    positive: str
    negative: str


def normalize_question(text: str) -> str:
    """Lower-case words only, for overlap checks between training texts and benchmark questions."""
    return " ".join(re.findall(r"[a-z0-9_\-]+", text.lower()))


def load_contrastive_csv(path: Path, exclude: set[str] | None = None) -> tuple[list[Triple], int, int]:
    """RAG-EDA's triples, stripped; rows with LLM-instruction artefacts or excluded texts are dropped.

    Args:
        path: ``embedding_contrastive_corpus.csv`` (header ``sent0,sent1,hard_neg``).
        exclude: normalised texts (``normalize_question``) that must not appear in any cell.

    Returns:
        (triples, rows dropped as artefacts, rows dropped as excluded)
    """
    exclude = exclude or set()
    triples: list[Triple] = []
    artefacts = excluded = 0
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cells = [row["sent0"].strip(), row["sent1"].strip(), row["hard_neg"].strip()]
            if not all(cells) or any(_ARTIFACT.search(c) for c in cells):
                artefacts += 1
            elif any(normalize_question(c) in exclude for c in cells):
                excluded += 1
            else:
                triples.append(Triple(*cells))
    return triples, artefacts, excluded


def doc_triples(pieces: Sequence[Piece], queries: Sequence[PseudoQuery], seed: int = 0) -> list[Triple]:
    """(pseudo-query, its best piece, best BM25 piece of another section) for each query.

    The positive is the query's own-section piece with most BM25 overlap; for ICT queries the sentence is cut
    out of it (kept with probability ``ICT_KEEP``) so the model learns context, not string identity.
    """
    rng = random.Random(seed)
    bm25 = Bm25([tokenize(p.text) for p in pieces])
    out: list[Triple] = []
    for q in queries:
        scores = bm25.scores(q.text)
        ranked = sorted(range(len(pieces)), key=lambda i: -scores[i])
        own = [i for i in ranked if pieces[i].parent_id == q.chunk_id]
        other = next((i for i in ranked if pieces[i].parent_id != q.chunk_id), None)
        if not own or other is None:
            continue
        positive = pieces[own[0]].text
        if q.kind == "ict" and rng.random() >= ICT_KEEP:
            positive = positive.replace(q.text, " ")
        out.append(Triple(q.text, positive, pieces[other].text))
    return out


def finetune_embedder(
    base: Path,
    out: Path,
    csv_triples: Sequence[Triple],
    doc_triples: Sequence[Triple],
    epochs: int = 1,
    batch_size: int = 32,
    lr: float = 5e-5,
    max_doc_tokens: int = 128,
    train_layers: int = 2,
    max_csv: int = 960,
    max_docs: int = 320,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> dict[str, float]:
    """Train the model at ``base`` on both triple sets and save it to ``out``; returns loss statistics.

    Args:
        base: model folder to start from (all-MiniLM-L6-v2).
        out: folder for the fine-tuned model (config, weights, tokenizer).
        csv_triples: question / paraphrase / term-swapped question triples.
        doc_triples: pseudo-query / section piece / other-section piece triples.
        epochs: passes over both sets (one is enough to adapt; more costs CPU minutes each).
        batch_size: anchors per batch (in-batch negatives grow with it); document batches use half.
        lr: AdamW learning rate with 10% linear warm-up then linear decay.
        max_doc_tokens: truncation of document pieces during training (a speed/fidelity trade-off).
        train_layers: only the top ``train_layers`` transformer blocks are updated; the embeddings and lower
            blocks stay frozen, which skips most of the backward pass (and keeps general knowledge).
        max_csv, max_docs: seeded subsamples of each triple set per epoch, sized so that training takes
            minutes on two shared CPU cores.
        seed: shuffling and dropout seed.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base)
    model.train()
    blocks = model.encoder.layer
    for param in model.parameters():
        param.requires_grad_(False)
    for block in blocks[len(blocks) - train_layers :]:
        for param in block.parameters():
            param.requires_grad_(True)
    batches: list[tuple[list[Triple], int]] = []
    for _ in range(epochs):
        a = list(csv_triples)
        d = list(doc_triples)
        rng.shuffle(a)
        rng.shuffle(d)
        a, d = a[:max_csv], d[:max_docs]
        ba = [(a[i : i + batch_size], 64) for i in range(0, len(a), batch_size)]
        half = max(batch_size // 2, 2)
        bd = [(d[i : i + half], max_doc_tokens) for i in range(0, len(d), half)]
        mixed = ba + bd
        rng.shuffle(mixed)
        batches += [b for b in mixed if len(b[0]) > 1]
    total = len(batches)
    if total == 0:
        raise ValueError("no training batches: give at least two triples")
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm + 1))))

    def embed(texts: list[str], max_len: int) -> torch.Tensor:
        enc = tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        hidden = model(**enc).last_hidden_state  # (B, T, 384)
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    losses: list[float] = []
    for step, (batch, max_len) in enumerate(batches):
        anchors = embed([t.anchor for t in batch], 64)  # (B, d)
        cands = embed([t.positive for t in batch] + [t.negative for t in batch], max_len)  # (2B, d)
        logits = anchors @ cands.T / TAU  # (B, 2B): column i is anchor i's positive
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        report(progress, f"fine-tuning embedder {step + 1}/{total}", (step + 1) / total)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    head = losses[: max(1, total // 10)]
    tail = losses[-max(1, total // 10) :]
    return {
        "steps": float(total),
        "loss_first": sum(head) / len(head),
        "loss_last": sum(tail) / len(tail),
        "loss_uniform": math.log(2 * batch_size),
    }
