"""Cache policies and the feature store: hottest first, exact gathers, hit counts."""

from __future__ import annotations

import pytest
import torch

from tools.common import InputError
from tools.gnn.cache import FeatureStore, cache_order
from tools.gnn.graphs import karate_graph
from tools.gnn.sampling import NeighborSampler


def test_degree_order_puts_the_hubs_first() -> None:
    g = karate_graph()
    order = cache_order(g, "degree")
    assert order[:2].tolist() == [33, 0]  # the instructor (17 members) and the administrator (16)
    assert sorted(order.tolist()) == list(range(34))


def test_presample_order_ranks_by_visits() -> None:
    g = karate_graph()
    pre = NeighborSampler(g, [3, 3], 4, g.train_idx, torch.Generator().manual_seed(0))
    order = cache_order(g, "presample", pre)
    visits = torch.zeros(34)
    again = NeighborSampler(g, [3, 3], 4, g.train_idx, torch.Generator().manual_seed(0))
    for batch in again.epoch():
        visits[batch.input_nodes] += 1
    assert visits[order[:5]].min() >= visits[order[5:]].max()


def test_presample_without_a_sampler_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cache_policy"):
        cache_order(karate_graph(), "presample")


def test_gather_returns_the_host_rows_and_counts_hits() -> None:
    x = torch.arange(40, dtype=torch.float32).reshape(10, 4)
    store = FeatureStore(x, torch.tensor([7, 2]), torch.device("cpu"))
    ids = torch.tensor([2, 5, 7, 7, 0])
    out, hits = store.gather(ids)
    assert torch.equal(out, x[ids]) and hits == 3
    assert store.cache_bytes == 2 * 4 * 4 + 10 * 8
    plain, none = FeatureStore(x, torch.empty(0, dtype=torch.long), torch.device("cpu")).gather(ids)
    assert torch.equal(plain, x[ids]) and none == 0
