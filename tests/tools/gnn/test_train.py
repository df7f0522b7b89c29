"""Real training runs on Zachary's karate club: what a record holds, what the knobs may and may not change."""

from __future__ import annotations

import pytest
import torch

from tools.common import InputError
from tools.gnn.config import GNNConfig
from tools.gnn.graphs import GraphData, karate_graph
from tools.gnn.runs import ProfileRecord, TrainSettings
from tools.gnn.train import resolve_device, train_and_measure

SETTINGS = TrainSettings(epochs=6, seed=0, device="cpu", clock="cpu")


@pytest.fixture(scope="module")
def graph() -> GraphData:
    return karate_graph()


def _run(graph: GraphData, settings: TrainSettings = SETTINGS, **knobs: object) -> ProfileRecord:
    return train_and_measure(graph, GNNConfig(**knobs), settings)


def test_a_run_reports_time_by_phase_memory_and_accuracy(graph: GraphData) -> None:
    r = _run(graph, fanouts=[5, 5], batch_size=8, hidden=16)
    assert r.launched and r.timed == "epochs" and not r.truncated
    assert r.batches_per_epoch == 2 and r.epochs == 6 and r.steps == 12  # 16 training nodes, 8 per batch
    assert r.epoch_s > 0 and r.sample_s > 0 and r.move_s > 0 and r.compute_s > 0
    assert r.sample_s + r.move_s + r.compute_s <= r.epoch_s * 1.5
    assert r.peak_mb > 0 and 0.0 <= r.val_acc <= 1.0 and 0.0 <= r.test_acc <= 1.0
    assert r.hit_rate == 0.0 and r.last_loss is not None and r.last_loss > 0


def test_cache_and_overlap_leave_training_unchanged(graph: GraphData) -> None:
    """They move where and when features are fetched, never which batches or weights are used."""
    base = _run(graph, fanouts=[3, 3], batch_size=4, hidden=16)
    for knobs in ({"cache_policy": "degree", "cache_ratio": 0.5}, {"overlap": True},
                  {"cache_policy": "presample", "cache_ratio": 0.3, "overlap": True}):
        other = _run(graph, fanouts=[3, 3], batch_size=4, hidden=16, **knobs)
        assert other.last_loss == base.last_loss, knobs
        assert (other.val_acc, other.test_acc) == (base.val_acc, base.test_acc)
    assert _run(graph, fanouts=[3, 3], batch_size=4, hidden=32).last_loss != base.last_loss


def test_full_cache_serves_every_row_and_costs_its_bytes(graph: GraphData) -> None:
    none = _run(graph, sampler="full", hidden=16)
    full = _run(graph, sampler="full", hidden=16, cache_policy="degree", cache_ratio=1.0)
    half = _run(graph, sampler="full", hidden=16, cache_policy="degree", cache_ratio=0.5)
    assert (none.hit_rate, full.hit_rate, half.hit_rate) == (0.0, 1.0, 0.5)
    cache_bytes = 34 * 34 * 4 + 34 * 8  # features of every node + the node -> slot map
    assert (full.peak_mb - none.peak_mb) * 2**20 >= cache_bytes
    assert none.batches_per_epoch == 1 and none.sample_s < 0.05 * none.epoch_s  # the graph is built once


def test_peak_memory_grows_with_width(graph: GraphData) -> None:
    small = _run(graph, sampler="full", hidden=16)
    large = _run(graph, sampler="full", hidden=256)
    params_adam = 4 * 4 * (2 * 34 * 256 + 2 * 256 * 2)  # weights, gradients and two Adam moments, float32
    assert (large.peak_mb - small.peak_mb) * 2**20 > params_adam * 0.9


def test_max_steps_truncates_and_extrapolates(graph: GraphData) -> None:
    r = _run(graph, TrainSettings(epochs=50, max_steps=6, device="cpu", clock="cpu"), fanouts=[3, 3], batch_size=4)
    assert r.truncated and r.steps == 6 and r.timed == "steps" and r.epoch_s > 0


def test_cluster_sampling_trains(graph: GraphData) -> None:
    r = _run(graph, sampler="cluster", batch_size=16, hidden=16)
    assert r.batches_per_epoch == 3 and r.val_acc is not None  # 9 parts of 4 nodes, 4 parts per batch


def test_cuda_without_a_gpu_is_an_input_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(InputError, match="device"):
        resolve_device("cuda")
