"""The GNN benchmark's baselines: default, PaGraph cache, hand-tuned sampler and chosen, over three seeds."""

from __future__ import annotations

import pytest

from eval.bench_gnn import SEEDS, _baselines, to_markdown
from tools.gnn.config import GNNConfig


@pytest.mark.slow
def test_baselines_rerun_every_configuration_on_three_seeds_and_compare_with_the_chosen_one() -> None:
    case = {"graph": "karate", "num_nodes": None, "max_seconds": None, "memory_budget_mb": None}
    chosen = GNNConfig(fanouts=(5, 5), batch_size=8, hidden=256)
    b = _baselines(case, "cpu", GNNConfig(), chosen, progress=None)
    assert set(b["rows"]) == {"default", "PaGraph degree cache", "hand-tuned sampler", "chosen"}
    assert all(row["seeds"] == len(SEEDS) == 3 for row in b["rows"].values())
    assert "cache degree 0.25" in b["rows"]["PaGraph degree cache"]["config"]
    assert b["rows"]["chosen"]["config"] == chosen.label() and len(b["hand_tuned_tried"]) == 4
    gains = b["gains"]["default"]
    rows = b["rows"]
    assert gains["speedup"] == pytest.approx(rows["default"]["epoch_s"] / rows["chosen"]["epoch_s"])
    assert gains["test_acc_delta"] == pytest.approx(rows["chosen"]["test_acc"] - rows["default"]["test_acc"])
    explore = {"graph": {"name": "karate"}, "priority": "fastest", "frozen_hidden": 256, "baselines": b,
               "reference": {"config": "d", "epoch_s": 1.0, "peak_mb": 1.0, "val_acc": 0.5},
               "chosen": {"config": "c", "epoch_s": 1.0, "peak_mb": 1.0, "val_acc": 0.5}, "speedup": 1.0,
               "memory_reduction": 0.0, "accuracy_delta": 0.0, "test_accuracy_delta": 0.0, "searches": [],
               "prediction_error": {}, "heldout_error": {}, "artifacts": {}}
    md = to_markdown({"paper": {"speedup": 3.1, "memory_reduction": 0.449}, "clock": "cpu", "explore": [explore]})
    assert "| PaGraph degree cache |" in md and "up to 3.1x, -44.9%" in md and " +- " in md


def test_the_full_run_explores_the_1e5_and_1e6_node_graphs_and_quick_only_digits() -> None:
    from eval.bench_gnn import _explore_cases

    full = {(c["graph"], c["num_nodes"]) for c in _explore_cases(False, None, None, None, None)}
    assert {("digits", None), ("sbm", 100_000), ("sbm", 1_000_000)} == full
    assert [c["graph"] for c in _explore_cases(True, None, None, None, None)] == ["digits"]
    (one,) = _explore_cases(False, ["sbm-1m"], None, None, None)
    assert one["num_nodes"] == 1_000_000 and one["memory_budget_mb"] == 2048.0
