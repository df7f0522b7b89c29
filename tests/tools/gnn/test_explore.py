"""Exploration: the acquisition rule on made-up predictions, and a tiny real search on the karate club."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tools.common import InputError
from tools.gnn.config import DesignSpace, GNNConfig
from tools.gnn.explore import (
    _KNOB_GROUPS,
    GNNExploreArgs,
    SearchRun,
    _acquire,
    _neighbours,
    _reach,
    run_gnn_explore,
)
from tools.gnn.pareto import Goal
from tools.gnn.perfmodel import Prediction
from tools.gnn.runs import TrainSettings

GOAL = Goal("fastest", ref_time=1.0, ref_memory=100.0, ref_acc=0.9, tolerance=0.01, memory_budget=500.0)
CANDS = [GNNConfig(hidden=h) for h in (8, 16, 32, 64, 128)]


def _pred(time: float, mem: float = 50.0, acc: float = 0.9, std: float = 0.0) -> Prediction:
    return Prediction(time, 0.0, 0.0, time, mem, acc, std)


def test_acquire_maximises_gain_times_the_chance_of_qualifying() -> None:
    preds = [_pred(0.2, acc=0.7), _pred(0.3, acc=0.88, std=0.02), _pred(0.4), _pred(0.1, mem=900.0), _pred(0.5)]
    # 0: known to miss the 0.89 threshold; 1: gain 2.33 x P(acc >= 0.89) = 2.33 x 0.31 = 0.72;
    # 2: gain 1.5 x 1; 3: over the memory budget; 4: gain 1.0 x 1
    assert _acquire(preds, CANDS, GOAL, set(), incumbent=1.0) == 2
    assert _acquire(preds, CANDS, GOAL, {CANDS[2]}, incumbent=1.0) == 4
    assert _acquire(preds, CANDS, GOAL, {CANDS[2], CANDS[4]}, incumbent=1.0) == 1


def test_acquire_stops_when_nothing_is_predicted_to_beat_the_best_run_enough() -> None:
    preds = [_pred(0.99)] * 5
    assert _acquire(preds, CANDS, GOAL, set(), incumbent=1.0) is None  # under the 3 % minimum gain
    assert _acquire(preds, CANDS, GOAL, set(), incumbent=1.1) == 0


def test_initial_design_changes_one_knob_group_of_the_reference_at_a_time() -> None:
    ref = GNNConfig()
    picks = _neighbours(ref, DesignSpace().configs(), 5, random.Random(0), {ref})
    changed = [[g for g, knobs in _KNOB_GROUPS.items() if any(getattr(c, k) != getattr(ref, k) for k in knobs)]
               for c in picks]
    assert all(len(c) == 1 for c in changed)
    assert {c[0] for c in changed[:3]} == {"sampling", "batch", "width"}  # model-changing knobs first
    assert {c[0] for c in changed[3:]} == {"cache", "overlap"}


def test_runs_to_reach_counts_until_within_five_percent_of_the_best_found() -> None:
    a = SearchRun(strategy="model", seed=0, records=[], chosen=0, trace=[1.0, 0.5, 0.2, 0.2])
    b = SearchRun(strategy="random", seed=1, records=[], chosen=0, trace=[1.0, 1.0, 0.5, 0.209])
    c = SearchRun(strategy="random", seed=2, records=[], chosen=0, trace=[1.0, 0.9])
    _reach([a, b, c], "fastest")
    assert (a.runs_to_reach, b.runs_to_reach, c.runs_to_reach) == (3, 4, None)


SPACE = DesignSpace(fanout_levels=[2, 4], layers=[2], batch_sizes=[4, 8], hiddens=[8, 32],
                    cache_policies=["none", "degree"], cache_ratios=[0.5], overlap=[False])
REFERENCE = GNNConfig(fanouts=[4, 4], batch_size=8, hidden=32)
TRAIN = TrainSettings(epochs=3, device="cpu", clock="cpu")


def test_a_small_real_exploration_beats_or_keeps_the_reference(tmp_path: Path) -> None:
    args = GNNExploreArgs(graph="karate", space=SPACE, reference=REFERENCE, train=TRAIN, runs=3, init_runs=2,
                          compare_random=True, accuracy_tolerance=0.2, out_dir=str(tmp_path))
    r = run_gnn_explore(args)
    guided, rand = r.searches
    assert (guided.strategy, rand.strategy) == ("model", "random")
    assert guided.records[0].config == rand.records[0].config == REFERENCE
    assert guided.launched <= 3 and rand.launched == 3 and len(rand.trace) == 3
    assert r.chosen.val_acc >= r.reference.val_acc - 0.2 and r.chosen.epoch_s <= r.reference.epoch_s
    assert r.speedup == pytest.approx(r.reference.epoch_s / r.chosen.epoch_s)
    assert r.candidates == len(SPACE.configs())
    labels = {x.config.label() for s in r.searches for x in s.records}
    assert set(r.pareto) <= labels and r.pareto
    assert Path(r.artifacts["pareto"]).read_bytes()[:4] == b"\x89PNG"
    saved = json.loads(Path(r.artifacts["runs"]).read_text())
    assert [s["strategy"] for s in saved] == ["model", "random"]
    assert all(x.predicted.get("epoch_s", 0) > 0 for x in guided.records[2:])  # model-chosen runs were predicted


def test_a_reference_that_cannot_fit_is_an_input_error(tmp_path: Path) -> None:
    args = GNNExploreArgs(graph="karate", space=SPACE, reference=REFERENCE, train=TRAIN, runs=2,
                          memory_budget_mb=1e-3, out_dir=str(tmp_path))
    with pytest.raises(InputError, match="reference"):
        run_gnn_explore(args)
