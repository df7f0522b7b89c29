"""Samplers: real edges only, fan-out limits without replacement, dst-prefix blocks, induced subgraphs, epochs."""

from __future__ import annotations

import pytest
import torch

from tools.gnn.graphs import GraphData, from_edges, karate_graph, synthetic_graph
from tools.gnn.sampling import (
    CLUSTERS_PER_BATCH,
    HUB_FACTOR,
    Block,
    ClusterSampler,
    FullBatchSampler,
    NeighborSampler,
    rcm_parts,
    sample_neighbors,
)


@pytest.fixture(scope="module")
def graph() -> GraphData:
    return synthetic_graph("powerlaw", 3_000, seed=0)


def _edge_keys(g: GraphData) -> torch.Tensor:
    return torch.repeat_interleave(torch.arange(g.num_nodes), g.degree) * g.num_nodes + g.indices


def _check_block(g: GraphData, block: Block) -> None:
    dst = block.src_nodes[block.edge_dst]
    src = block.src_nodes[block.edge_src]
    assert bool(torch.isin(dst * g.num_nodes + src, _edge_keys(g)).all()), "sampled a non-edge"
    assert block.src_nodes.numel() == torch.unique(block.src_nodes).numel(), "duplicate source node"
    assert bool((block.edge_dst[1:] >= block.edge_dst[:-1]).all()), "destinations not in CSR order"


@pytest.mark.parametrize("fanout", [1, 3, 10, -1])
def test_sample_neighbors_takes_min_of_degree_and_fanout_distinct_neighbours(graph: GraphData, fanout: int) -> None:
    nodes = torch.arange(0, graph.num_nodes, 7)
    owner, nbr, shuffled = sample_neighbors(graph, nodes, fanout, torch.Generator().manual_seed(0))
    deg = graph.degree[nodes]
    want = deg if fanout < 0 else deg.clamp(max=fanout)
    assert torch.equal(torch.bincount(owner, minlength=nodes.numel()), want)
    pairs = owner * graph.num_nodes + nbr
    assert pairs.numel() == torch.unique(pairs).numel(), "a neighbour drawn twice"
    assert bool(torch.isin(nodes[owner] * graph.num_nodes + nbr, _edge_keys(graph)).all())
    if fanout < 0:
        assert shuffled == 0
    else:  # lists longer than the fan-out are shuffled, hubs draw 2 x fan-out positions (or shuffle if short)
        hub = deg > HUB_FACTOR * fanout
        assert shuffled >= int(deg[(deg > want) & ~hub].sum()) + 2 * fanout * int(hub.sum())


@pytest.mark.parametrize("fanout", [5, 100])  # the hub draws (436 > 8 x 5) or shuffles (436 < 8 x 100)
def test_sample_neighbors_is_uniform_over_a_hubs_neighbours(graph: GraphData, fanout: int) -> None:
    hub = torch.argmax(graph.degree).reshape(1)
    gen = torch.Generator().manual_seed(1)
    counts = torch.zeros(graph.num_nodes)
    for _ in range(400):
        _, nbr, _ = sample_neighbors(graph, hub, fanout, gen)
        assert torch.unique(nbr).numel() == fanout
        counts[nbr] += 1
    hits = counts[graph.indices[graph.indptr[hub]:graph.indptr[hub + 1]]]
    expected = 400 * fanout / graph.degree[hub].item()
    assert abs(float(hits.mean()) - expected) < 1e-6  # every draw lands on a real neighbour
    binomial = (expected * (1 - fanout / graph.degree[hub].item())) ** 0.5
    assert 0.8 * binomial < float(hits.std()) < 1.2 * binomial  # no neighbour is favoured


def test_neighbor_sampler_builds_one_block_per_hop_with_destinations_first(graph: GraphData) -> None:
    sampler = NeighborSampler(graph, [5, 3], 64, graph.train_idx, torch.Generator().manual_seed(0))
    batch = next(sampler.epoch())
    assert len(batch.blocks) == 2
    last, first = batch.blocks[1], batch.blocks[0]
    assert torch.equal(last.src_nodes[:last.n_dst], batch.output_nodes)
    assert torch.equal(first.src_nodes[:first.n_dst], last.src_nodes)  # layer 1 outputs feed layer 2
    assert int(torch.bincount(last.edge_dst, minlength=last.n_dst).max()) <= 5
    assert int(torch.bincount(first.edge_dst, minlength=first.n_dst).max()) <= 3
    for block in batch.blocks:
        _check_block(graph, block)


def test_an_epoch_visits_every_training_node_once(graph: GraphData) -> None:
    sampler = NeighborSampler(graph, [2], 50, graph.train_idx, torch.Generator().manual_seed(0))
    seen = torch.cat([b.output_nodes for b in sampler.epoch()])
    assert torch.equal(torch.sort(seen).values, torch.sort(graph.train_idx).values)
    assert sampler.batches_per_epoch() == -(-graph.train_idx.numel() // 50)


def test_sampling_is_deterministic_for_a_seed(graph: GraphData) -> None:
    def first(seed: int) -> torch.Tensor:
        return next(NeighborSampler(graph, [4, 4], 32, graph.train_idx,
                                    torch.Generator().manual_seed(seed)).epoch()).input_nodes

    assert torch.equal(first(5), first(5)) and not torch.equal(first(5), first(6))


def _inside_fraction(g: GraphData, parts: list[torch.Tensor]) -> float:
    part_of = torch.empty(g.num_nodes, dtype=torch.long)
    for i, p in enumerate(parts):
        part_of[p] = i
    rows = torch.repeat_interleave(torch.arange(g.num_nodes), g.degree)
    return float((part_of[rows] == part_of[g.indices]).float().mean())


def test_rcm_parts_partition_the_nodes_and_keep_neighbourhoods_together() -> None:
    import networkx as nx

    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(20, 20))
    edges = torch.tensor(list(grid.edges()))
    g = from_edges("grid", edges[:, 0], edges[:, 1], torch.zeros(400, 1), torch.arange(400) % 2)
    parts = rcm_parts(g, 40)
    assert sorted(torch.cat(parts).tolist()) == list(range(400)) and len(parts) == 10
    shuffled = list(torch.randperm(400, generator=torch.Generator().manual_seed(0)).split(40))
    assert _inside_fraction(g, parts) > 0.5 > 0.15 > _inside_fraction(g, shuffled)  # random keeps ~1/10


def test_cluster_batches_are_induced_subgraphs_over_all_nodes() -> None:
    g = karate_graph()
    mask = torch.zeros(34, dtype=torch.bool)
    mask[g.train_idx] = True
    sampler = ClusterSampler(g, 2, 16, mask, torch.Generator().manual_seed(0))  # parts of 4 nodes
    batches = list(sampler.epoch())
    assert len(batches) == sampler.batches_per_epoch() == -(-len(sampler.parts) // CLUSTERS_PER_BATCH)
    assert sorted(torch.cat([b.output_nodes for b in batches]).tolist()) == list(range(34))
    for b in batches:
        block = b.blocks[0]
        assert b.blocks[1] is block and block.n_dst == block.n_src
        _check_block(g, block)
        inside = torch.zeros(34, dtype=torch.bool)
        inside[block.src_nodes] = True
        rows = torch.repeat_interleave(torch.arange(34), g.degree)
        assert block.n_edges == int((inside[rows] & inside[g.indices]).sum())  # every internal edge kept
        assert bool(mask[b.output_nodes[b.train_pos]].all())


def test_full_batch_is_the_whole_graph_every_layer() -> None:
    g = karate_graph()
    mask = torch.zeros(34, dtype=torch.bool)
    mask[g.train_idx] = True
    batches = list(FullBatchSampler(g, 3, mask).epoch())
    assert len(batches) == 1 and len(batches[0].blocks) == 3
    assert batches[0].blocks[0].n_edges == g.num_edges and batches[0].scanned == 0
