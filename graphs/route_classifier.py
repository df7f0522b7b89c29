"""A calibrated classifier over the router's classes (the agents and ``out_of_scope``).

Features of a request: its MiniLM embedding, its similarity to each class's example utterances (mean of the 3
nearest), and the lexical evidence per agent (keywords, vocabulary). A multinomial logistic regression
(scikit-learn, L2) learns how to weigh them from the utterance bank, with the similarity features computed
leave-one-out so that an utterance never counts as its own neighbour. Prediction is numpy only: the weights are
cached on disk (``.npz`` keyed by the bank, the model files and the settings below), so a CLI start reads them
back in milliseconds and never imports scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ("Bank", "RouteClassifier", "TOP_K", "LEXICAL_CAP")

TOP_K = 3  # a class's similarity is the mean of its 3 nearest example utterances
LEXICAL_CAP = 2  # lexical hits count up to 2 per kind (keywords, vocabulary)
EMBED_SCALE = 8.0  # the unit-norm embedding's components are ~0.05: scaled so one L2 strength suits all features
SIM_SCALE = 3.0  # feature scales set how hard the L2 penalty holds each group back
LEX_SCALE = 1.0
C = 8.0  # inverse L2 strength
# (scales and C chosen on the dev splits of both routing sets, never the held-out ones; thresholds likewise)


@dataclass(frozen=True)
class Bank:
    """The labelled utterances: vectors (n, dim), labels (n,) as class indices, and the class names."""

    vectors: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]

    def similarity_features(self, queries: np.ndarray, leave_one_out: bool = False) -> np.ndarray:
        """(m, n_classes): mean cosine of each query to its ``TOP_K`` nearest utterances of each class. With
        ``leave_one_out`` the queries are the bank itself and each row skips its own utterance."""
        sims = queries @ self.vectors.T
        if leave_one_out:
            np.fill_diagonal(sims, -np.inf)
        out = np.empty((len(queries), len(self.classes)), np.float32)
        for c in range(len(self.classes)):
            block = sims[:, self.labels == c]
            k = min(TOP_K, block.shape[1] - (1 if leave_one_out else 0))
            top = -np.partition(-block, k - 1, axis=1)[:, :k]
            out[:, c] = np.where(np.isfinite(top), top, 0.0).mean(axis=1)
        return out


def features(vectors: np.ndarray, similarity: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """The classifier's input: scaled embedding, per-class similarity, capped lexical hits (scaled to 0..1)."""
    lex = LEX_SCALE * np.minimum(lexical, LEXICAL_CAP) / LEXICAL_CAP
    return np.hstack([EMBED_SCALE * vectors, SIM_SCALE * similarity, lex]).astype(np.float32)


class RouteClassifier:
    """Multinomial logistic regression: ``probabilities(x)`` rows sum to one over ``classes``."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: Sequence[str]):
        self.coef, self.intercept, self.classes = coef, intercept, tuple(classes)

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, classes: Sequence[str], c: float = C) -> RouteClassifier:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=2000).fit(x, y)
        coef = np.zeros((len(classes), x.shape[1]), np.float32)
        intercept = np.full(len(classes), -1e4, np.float32)  # a class absent from y is never predicted
        coef[model.classes_] = model.coef_
        intercept[model.classes_] = model.intercept_
        return cls(coef, intercept, classes)

    def probabilities(self, x: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
        """Softmax of the logits, plus ``prior`` (log-odds per class, e.g. evidence the bank cannot teach)."""
        logits = (x @ self.coef.T + self.intercept).astype(np.float64)  # float32 rounds a near-certain class to 1
        if prior is not None:
            logits = logits + prior
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    @classmethod
    def cached(cls, key_parts: object, x: np.ndarray, y: np.ndarray, classes: Sequence[str], cache_dir: Path | None) -> RouteClassifier:
        """``fit`` once per bank: the weights are kept under ``cache_dir`` keyed by ``key_parts`` and the settings."""
        if cache_dir is None:
            return cls.fit(x, y, classes)
        key = hashlib.sha256(json.dumps([key_parts, list(classes), C, EMBED_SCALE, SIM_SCALE, LEX_SCALE, TOP_K, LEXICAL_CAP], default=str).encode())
        path = Path(cache_dir) / f"classifier-{key.hexdigest()[:24]}.npz"
        if path.is_file():
            data = np.load(path)
            if data["coef"].shape == (len(classes), x.shape[1]):
                return cls(data["coef"], data["intercept"], classes)
        model = cls.fit(x, y, classes)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.partial.npz")
        np.savez(tmp, coef=model.coef, intercept=model.intercept)
        tmp.replace(path)  # atomic: a reader never sees half a file
        return model


def cross_validate(bank: Bank, lexical: np.ndarray, folds: int = 5, seed: int = 0, c: float = C) -> float:
    """Stratified k-fold accuracy of the classifier on the bank (similarity features from the training folds)."""
    from sklearn.model_selection import StratifiedKFold

    right = 0
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(bank.vectors, bank.labels):
        sub = Bank(bank.vectors[train], bank.labels[train], bank.classes)
        x_train = features(bank.vectors[train], sub.similarity_features(bank.vectors[train], True), lexical[train])
        model = RouteClassifier.fit(x_train, bank.labels[train], bank.classes, c)
        x_test = features(bank.vectors[test], sub.similarity_features(bank.vectors[test]), lexical[test])
        right += int((model.probabilities(x_test).argmax(axis=1) == bank.labels[test]).sum())
    return right / len(bank.labels)
