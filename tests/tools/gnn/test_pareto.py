"""Pareto masks, priority scores and feasibility, and the plot file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tools.gnn.pareto import Goal, PlotPoint, pareto_mask, plot_pareto


def test_pareto_mask_matches_brute_force() -> None:
    pts = np.random.default_rng(0).random((700, 3))
    brute = [not any((q <= p).all() and (q < p).any() for q in pts) for p in pts]
    assert pareto_mask(pts).tolist() == brute


def test_duplicates_are_both_kept_and_dominated_points_dropped() -> None:
    pts = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0], [2.0, 2.0]])
    assert pareto_mask(pts).tolist() == [True, True, True, False]


def test_goal_scores_and_tolerance() -> None:
    fast = Goal("fastest", ref_time=2.0, ref_memory=100.0, ref_acc=0.90, tolerance=0.01)
    assert fast.feasible(1.0, 500.0, 0.89) and not fast.feasible(1.0, 50.0, 0.885)
    assert fast.score(1.0, 500.0) == 1.0
    lean = Goal("least_memory", 2.0, 100.0, 0.90, 0.01)
    assert lean.feasible(2.0, 10.0, 0.9) and not lean.feasible(2.1, 10.0, 0.9)  # no slower than the reference
    assert Goal("least_memory", 2.0, 100.0, 0.90, 0.01, time_budget=3.0).feasible(2.9, 10.0, 0.9)
    capped = Goal("fastest", 2.0, 100.0, 0.90, 0.01, memory_budget=64.0)
    assert not capped.feasible(1.0, 65.0, 0.95)
    both = Goal("balanced", 2.0, 100.0, 0.90, 0.01)
    assert both.score(1.0, 50.0) == pytest.approx(2 * math.log(0.5))


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pred = np.array([[1.0, 10.0], [2.0, 5.0], [3.0, 20.0]])
    pts = [PlotPoint(1.5, 8.0, 0.9, "model"), PlotPoint(2.5, 9.0, 0.8, "random"),
           PlotPoint(2.0, 12.0, 0.91, "reference"), PlotPoint(1.5, 8.0, 0.9, "chosen")]
    plot_pareto(tmp_path / "p.png", pred, np.array([True, True, False]), pts, "test")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
