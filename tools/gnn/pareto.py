"""Pareto fronts over (epoch time, peak memory, accuracy), priority-weighted choices, and the Pareto plot.

GNNavigator (Qiu et al., DAC 2024) turns an application's priorities into a choice among Pareto-optimal
training configurations. The priorities here:

- ``fastest``: least epoch time with accuracy within ``tolerance`` of the reference configuration;
- ``least_memory``: least peak memory within the accuracy tolerance and a time budget (default: no slower
  than the reference);
- ``balanced``: least ``log(T / T_ref) + log(M / M_ref)`` (equal weight to relative time and memory) within
  the accuracy tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

__all__ = ("Priority", "Goal", "pareto_mask", "plot_pareto", "PlotPoint")

Priority = Literal["fastest", "least_memory", "balanced"]


@dataclass(frozen=True)
class Goal:
    """A priority with its reference numbers and limits; scores and feasibility of (time, memory, accuracy)."""

    priority: Priority
    ref_time: float
    ref_memory: float
    ref_acc: float
    tolerance: float
    time_budget: float | None = None
    memory_budget: float | None = None

    def feasible(self, time: float, memory: float, acc: float) -> bool:
        """Within the accuracy tolerance and the budgets (the time budget applies to ``least_memory``)."""
        if acc < self.ref_acc - self.tolerance - 1e-12:
            return False
        if self.memory_budget is not None and memory > self.memory_budget:
            return False
        if self.priority == "least_memory":
            return time <= (self.time_budget if self.time_budget is not None else self.ref_time) * (1 + 1e-9)
        return self.time_budget is None or time <= self.time_budget

    def score(self, time: float, memory: float) -> float:
        """Lower is better."""
        if self.priority == "fastest":
            return time
        if self.priority == "least_memory":
            return memory
        return math.log(time / self.ref_time) + math.log(memory / self.ref_memory)


def pareto_mask(costs: np.ndarray) -> np.ndarray:
    """(n,) bool: rows of the (n, k) ``costs`` (all minimised) that no other row dominates."""
    n = costs.shape[0]
    keep = np.ones(n, dtype=bool)
    for start in range(0, n, 512):  # blocks keep the (block, n, k) comparison small
        block = costs[start:start + 512]
        no_worse = (costs[None, :, :] <= block[:, None, :]).all(-1)
        better = (costs[None, :, :] < block[:, None, :]).any(-1)
        keep[start:start + 512] = ~(no_worse & better).any(1)
    return keep


@dataclass(frozen=True)
class PlotPoint:
    """One measured configuration on the plot."""

    time: float
    memory: float
    acc: float
    kind: str  # "model", "random", "reference" or "chosen"


def plot_pareto(path: Path, predicted: np.ndarray, predicted_ok: np.ndarray, measured: list[PlotPoint],
                title: str) -> None:
    """Epoch time vs peak memory (log axes): predicted candidates in grey, their accuracy-feasible front as a
    line, measured runs coloured by validation accuracy, reference and chosen marked.

    Args:
        predicted: (n, 2) predicted (time, memory) of every candidate.
        predicted_ok: (n,) bool, predicted within the accuracy tolerance and budgets.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    ax.scatter(predicted[~predicted_ok, 0], predicted[~predicted_ok, 1], s=4, c="0.88", label="predicted (acc. out)")
    ax.scatter(predicted[predicted_ok, 0], predicted[predicted_ok, 1], s=4, c="0.6", label="predicted candidates")
    if predicted_ok.any():
        ok = predicted[predicted_ok]
        front = ok[pareto_mask(ok)]
        front = front[np.argsort(front[:, 0])]
        ax.step(front[:, 0], front[:, 1], where="post", c="tab:blue", lw=1.2, marker="o", ms=3,
                label="predicted Pareto front")
    markers = {"model": ("o", "model-guided runs"), "random": ("^", "random-search runs")}
    accs = [p.acc for p in measured]
    lo, hi = (min(accs), max(accs)) if accs else (0.0, 1.0)
    sc = None
    for kind, (marker, label) in markers.items():
        pts = [p for p in measured if p.kind == kind]
        if pts:
            sc = ax.scatter([p.time for p in pts], [p.memory for p in pts], c=[p.acc for p in pts], cmap="viridis",
                            vmin=lo, vmax=hi, marker=marker, s=40, edgecolors="k", linewidths=0.5, label=label)
    for kind, marker, colour, label in (("reference", "*", "k", "reference (default)"),
                                        ("chosen", "D", "tab:red", "chosen")):
        pts = [p for p in measured if p.kind == kind]
        if pts:
            ax.scatter([p.time for p in pts], [p.memory for p in pts], marker=marker, s=160, c=colour,
                       edgecolors="w", linewidths=0.8, label=label, zorder=5)
    if sc is not None:
        fig.colorbar(sc, ax=ax, label="validation accuracy")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("epoch time (s)")
    ax.set_ylabel("peak training memory (MiB)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
