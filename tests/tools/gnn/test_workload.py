"""Workload estimates: counted from sampled batches, shared across knobs, hit rates that match training."""

from __future__ import annotations

import pytest

from tools.gnn.config import GNNConfig
from tools.gnn.graphs import GraphData, karate_graph, synthetic_graph
from tools.gnn.runs import TrainSettings
from tools.gnn.train import train_and_measure
from tools.gnn.workload import WorkloadCache



@pytest.fixture(scope="module")
def graph() -> GraphData:
    return synthetic_graph("powerlaw", 3_000, seed=0)


def test_full_batch_workload_is_the_whole_graph(graph: GraphData) -> None:
    wl = WorkloadCache(graph).get(GNNConfig(sampler="full", layers=3))
    assert wl.batches == 1.0 and wl.mean.n_dst == (3000.0,) * 3 and wl.mean.edges == (float(graph.num_edges),) * 3


def test_neighbour_workload_respects_fanouts_and_counts_fractional_batches(graph: GraphData) -> None:
    wl = WorkloadCache(graph).get(GNNConfig(fanouts=[4, 2], batch_size=16))
    # 60 training seeds: batches of 16, 16, 16 and 12, so 4 batches of 15 on average
    assert graph.train_idx.numel() == 60 and wl.mean.n_dst[-1] == 15.0 and wl.batches == pytest.approx(4.0)
    assert wl.mean.edges[-1] <= 16 * 4 and wl.mean.edges[0] <= wl.mean.n_dst[0] * 2
    assert wl.peak.rows >= wl.mean.rows


def test_knobs_that_do_not_change_sampling_share_one_workload(graph: GraphData) -> None:
    cache = WorkloadCache(graph)
    a = cache.get(GNNConfig(fanouts=[4, 2], batch_size=16, hidden=16))
    b = cache.get(GNNConfig(fanouts=[4, 2], batch_size=16, hidden=512, cache_policy="degree", overlap=True))
    assert a is b and cache.get(GNNConfig(fanouts=[4, 3], batch_size=16)) is not a


def test_degree_cache_hits_more_than_its_size_on_a_power_law_graph(graph: GraphData) -> None:
    cache = WorkloadCache(graph)
    rate = cache.hit_rate(GNNConfig(fanouts=[10, 10], batch_size=64, cache_policy="degree", cache_ratio=0.1))
    assert rate > 0.15  # sampling reaches the hubs more often than their 10 % share of the nodes
    assert cache.hit_rate(GNNConfig(fanouts=[10, 10], batch_size=64)) == 0.0
    assert cache.hit_rate(GNNConfig(fanouts=[10, 10], batch_size=64, cache_policy="degree", cache_ratio=1.0)) == 1.0


def test_presample_estimate_tracks_the_measured_hit_rate() -> None:
    g = karate_graph()
    cfg = GNNConfig(fanouts=[2, 2], batch_size=4, hidden=8, cache_policy="presample", cache_ratio=0.3)
    estimate = WorkloadCache(g, seed=0).hit_rate(cfg)
    measured = train_and_measure(g, cfg, TrainSettings(epochs=3, device="cpu", clock="cpu")).hit_rate
    assert abs(estimate - measured) < 0.15
