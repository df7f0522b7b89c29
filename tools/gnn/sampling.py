"""Mini-batch samplers for GNN training: full batch, per-layer neighbour sampling, cluster (subgraph) sampling.

PyG's and DGL's samplers need compiled extensions (pyg-lib / torch-sparse, DGL's C++ core) that have no wheel
for this torch, so this module holds the three samplers GNNavigator's design space needs, in plain torch:

- **neighbour sampling** (GraphSAGE, Hamilton et al., NeurIPS 2017): from the seed nodes outwards, hop ``h``
  keeps at most ``fanouts[h]`` neighbours of every frontier node, drawn uniformly without replacement
  (``-1`` keeps all); each hop becomes one bipartite :class:`Block`, the input layer's block first;
- **cluster sampling** (Cluster-GCN, Chiang et al., KDD 2019): nodes are cut into parts once, a batch is the
  subgraph induced by ``CLUSTERS_PER_BATCH`` random parts (Cluster-GCN's "stochastic multiple partitions",
  which keeps the between-part edges of the chosen parts). Cluster-GCN cuts with METIS; here the parts are
  consecutive runs of the reverse Cuthill-McKee order (Cuthill & McKee 1969; scipy), a breadth-first,
  bandwidth-reducing order, so each part is a connected-ish neighbourhood;
- **full batch** (GCN, Kipf & Welling, ICLR 2017): every layer sees the whole graph.

Batches also count the work they carry (sampled nodes and edges, adjacency entries scanned), which the
performance model uses as its workload features.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tools.gnn.graphs import GraphData

__all__ = (
    "Block",
    "Batch",
    "Sampler",
    "NeighborSampler",
    "ClusterSampler",
    "FullBatchSampler",
    "CLUSTERS_PER_BATCH",
    "HUB_FACTOR",
    "sample_neighbors",
    "rcm_parts",
    "csr_adjacency",
)

HUB_FACTOR = 8
"""A node with more than 8 x fan-out neighbours samples by drawing (see ``sample_neighbors``)."""
CLUSTERS_PER_BATCH = 4
"""Parts merged into one cluster batch; Cluster-GCN merges q random parts (q = 20 of 1,500 on Reddit)."""


@dataclass(frozen=True)
class Block:
    """One layer's bipartite message graph: messages flow from ``src_nodes`` to ``src_nodes[:n_dst]``.

    Attributes:
        src_nodes: (n_src,) global node ids; the first ``n_dst`` are the destination nodes.
        n_dst: number of destination nodes.
        edge_dst: (e,) local destination index (< n_dst), ascending.
        edge_src: (e,) local source index (< n_src).
    """

    src_nodes: Tensor
    n_dst: int
    edge_dst: Tensor
    edge_src: Tensor

    @property
    def n_src(self) -> int:
        return int(self.src_nodes.numel())

    @property
    def n_edges(self) -> int:
        return int(self.edge_src.numel())


@dataclass(frozen=True)
class Batch:
    """A training step's input: the blocks (input layer first) and where the labelled outputs are.

    Attributes:
        blocks: one :class:`Block` per GNN layer.
        output_nodes: (n_out,) global ids of the last layer's destination nodes.
        train_pos: (n_train,) positions in ``output_nodes`` whose labels the loss uses.
        scanned: adjacency entries the sampler examined beyond copying the kept edges (shuffled to draw
            neighbours, or filtered to find a subgraph's internal edges).
    """

    blocks: tuple[Block, ...]
    output_nodes: Tensor
    train_pos: Tensor
    scanned: int

    @property
    def input_nodes(self) -> Tensor:
        """Nodes whose features the first layer reads."""
        return self.blocks[0].src_nodes


class Sampler(ABC):
    """Base: ``epoch()`` yields the batches of one pass over the training nodes."""

    layers: int

    @abstractmethod
    def epoch(self) -> Iterator[Batch]:
        """The batches of one epoch, in training order."""

    @abstractmethod
    def batches_per_epoch(self) -> int:
        """How many batches ``epoch()`` yields."""


def sample_neighbors(graph: GraphData, nodes: Tensor, fanout: int, gen: torch.Generator) -> tuple[Tensor, Tensor, int]:
    """At most ``fanout`` distinct neighbours of each node, uniformly without replacement (``-1``: all).

    Nodes with at most ``fanout`` neighbours keep them all. A node with more shuffles its adjacency list and
    keeps the first ``fanout``, except a hub (more than ``HUB_FACTOR x fanout`` neighbours), which draws
    ``2 x fanout`` positions with replacement and keeps the first ``fanout`` distinct ones in draw order (each
    new distinct draw is uniform over the positions not yet drawn, so the kept set is a uniform subset):
    work and memory stay O(fanout) on power-law hubs. A hub short of ``fanout`` distinct draws shuffles.

    Returns:
        (owner, neighbour, examined): ``owner`` (e,) positions in ``nodes``, ascending; ``neighbour`` (e,)
        global ids; ``examined`` adjacency positions shuffled or drawn beyond copying whole short lists (the
        sampler's extra work, and the size of its temporaries).
    """
    start = graph.indptr[nodes]
    deg = graph.indptr[nodes + 1] - start
    take = deg if fanout < 0 else deg.clamp(max=fanout)
    owner = torch.repeat_interleave(torch.arange(nodes.numel()), take)
    slot_start = torch.cumsum(take, 0) - take  # where each node's kept neighbours go
    offset = torch.arange(owner.numel()) - torch.repeat_interleave(slot_start, take)  # all kept: 0, 1, ...
    examined = 0
    if fanout >= 0:
        hubs = torch.nonzero(deg > HUB_FACTOR * fanout).flatten()
        short = torch.zeros(0, dtype=torch.long)
        if hubs.numel():
            short = _draw_distinct(deg[hubs], fanout, slot_start[hubs], offset, gen)
            examined += 2 * fanout * hubs.numel()
        shuffle = torch.cat([torch.nonzero((deg > take) & (deg <= HUB_FACTOR * fanout)).flatten(), hubs[short]])
        if shuffle.numel():
            _shuffle_first(deg[shuffle], fanout, slot_start[shuffle], offset, gen)
            examined += int(deg[shuffle].sum())
    neighbour = graph.indices[start[owner] + offset]
    return owner, neighbour, examined


def _shuffle_first(deg: Tensor, fanout: int, slot_start: Tensor, offset: Tensor, gen: torch.Generator) -> None:
    """Write the first ``fanout`` positions of a random permutation of each list into ``offset``."""
    seg = torch.repeat_interleave(torch.arange(deg.numel()), deg)  # list of each adjacency position
    rank = torch.arange(seg.numel()) - (torch.cumsum(deg, 0) - deg)[seg]  # position in its list
    keys = seg.double() + torch.rand(seg.numel(), generator=gen, dtype=torch.float64)
    order = torch.argsort(keys)  # lists keep their place; positions are shuffled within each
    p = torch.nonzero(rank < fanout).flatten()
    offset[slot_start[seg[p]] + rank[p]] = rank[order[p]]


def _draw_distinct(deg: Tensor, fanout: int, slot_start: Tensor, offset: Tensor, gen: torch.Generator) -> Tensor:
    """For lists much longer than ``fanout``: draw ``2 fanout`` positions, keep the first ``fanout`` distinct.

    Returns the indices (into ``deg``) of lists with fewer than ``fanout`` distinct draws, left unwritten.
    """
    draws = (torch.rand(deg.numel(), 2 * fanout, generator=gen, dtype=torch.float64) * deg[:, None]).long()
    ordered, order = torch.sort(draws, dim=1, stable=True)
    repeat = torch.zeros_like(ordered, dtype=torch.bool)
    repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    first = torch.empty_like(repeat).scatter_(1, order, ~repeat)  # first occurrence, in draw order
    rank = torch.cumsum(first, 1) - 1
    ok = first.sum(1) >= fanout
    keep = first & (rank < fanout) & ok[:, None]
    rows = torch.nonzero(keep)[:, 0]
    offset[slot_start[rows] + rank[keep]] = draws[keep]
    return torch.nonzero(~ok).flatten()


def _to_block(dst_nodes: Tensor, owner: Tensor, neighbour: Tensor, local: Tensor) -> Block:
    """Bipartite block whose sources are ``dst_nodes`` followed by the new neighbours, in first-seen order.

    ``local`` is an (N,) int64 scratch map filled with -1; it is restored before returning.
    """
    n_dst = dst_nodes.numel()
    local[dst_nodes] = torch.arange(n_dst)
    fresh = neighbour[local[neighbour] < 0]
    new_nodes = torch.unique(fresh)
    local[new_nodes] = torch.arange(n_dst, n_dst + new_nodes.numel())
    edge_src = local[neighbour]
    src_nodes = torch.cat([dst_nodes, new_nodes])
    local[src_nodes] = -1
    return Block(src_nodes, n_dst, owner, edge_src)


class NeighborSampler(Sampler):
    """GraphSAGE sampling: ``batch_size`` shuffled training seeds, ``fanouts[h]`` neighbours at hop ``h + 1``."""

    def __init__(self, graph: GraphData, fanouts: list[int], batch_size: int, seeds: Tensor, gen: torch.Generator):
        self.graph, self.fanouts, self.batch_size, self.seeds, self.gen = graph, fanouts, batch_size, seeds, gen
        self.layers = len(fanouts)
        self._local = torch.full((graph.num_nodes,), -1, dtype=torch.long)

    def batches_per_epoch(self) -> int:
        return math.ceil(self.seeds.numel() / self.batch_size)

    def epoch(self) -> Iterator[Batch]:
        perm = self.seeds[torch.randperm(self.seeds.numel(), generator=self.gen)]
        for chunk in perm.split(self.batch_size):
            yield self.sample(chunk)

    def sample(self, seeds: Tensor) -> Batch:
        """The blocks of ``seeds``: hop 1 with ``fanouts[0]`` feeds the last layer."""
        blocks: list[Block] = []
        frontier, scanned = seeds, 0
        for fanout in self.fanouts:
            owner, neighbour, read = sample_neighbors(self.graph, frontier, fanout, self.gen)
            block = _to_block(frontier, owner, neighbour, self._local)
            blocks.insert(0, block)
            frontier, scanned = block.src_nodes, scanned + read
        return Batch(tuple(blocks), seeds, torch.arange(seeds.numel()), scanned)


def rcm_parts(graph: GraphData, part_size: int) -> list[Tensor]:
    """Cut the reverse Cuthill-McKee order into consecutive parts of ``part_size`` nodes."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    n = graph.num_nodes
    adj = sp.csr_matrix(
        (np.ones(graph.num_edges, dtype=np.int8), graph.indices.numpy(), graph.indptr.numpy()), shape=(n, n)
    )
    order = torch.from_numpy(reverse_cuthill_mckee(adj, symmetric_mode=True).astype(np.int64))
    return list(order.split(max(1, part_size)))


def _induced_block(graph: GraphData, nodes: Tensor, local: Tensor) -> tuple[Block, int]:
    """The subgraph induced by ``nodes`` as a square block (every node is both source and destination)."""
    nodes = torch.sort(nodes).values
    local[nodes] = torch.arange(nodes.numel())
    start = graph.indptr[nodes]
    deg = graph.indptr[nodes + 1] - start
    owner = torch.repeat_interleave(torch.arange(nodes.numel()), deg)
    offset = torch.arange(owner.numel()) - torch.repeat_interleave(torch.cumsum(deg, 0) - deg, deg)
    target = local[graph.indices[start[owner] + offset]]
    keep = target >= 0
    block = Block(nodes, nodes.numel(), owner[keep], target[keep])
    local[nodes] = -1
    return block, int(deg.sum())


class ClusterSampler(Sampler):
    """Cluster-GCN: parts of ``batch_size / CLUSTERS_PER_BATCH`` nodes, ``CLUSTERS_PER_BATCH`` parts per batch."""

    def __init__(self, graph: GraphData, layers: int, batch_size: int, train_mask: Tensor, gen: torch.Generator):
        self.graph, self.layers, self.train_mask, self.gen = graph, layers, train_mask, gen
        self.parts = rcm_parts(graph, math.ceil(batch_size / CLUSTERS_PER_BATCH))
        self._local = torch.full((graph.num_nodes,), -1, dtype=torch.long)

    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.parts) / CLUSTERS_PER_BATCH)

    def epoch(self) -> Iterator[Batch]:
        order = torch.randperm(len(self.parts), generator=self.gen).tolist()
        for i in range(0, len(order), CLUSTERS_PER_BATCH):
            nodes = torch.cat([self.parts[j] for j in order[i:i + CLUSTERS_PER_BATCH]])
            block, scanned = _induced_block(self.graph, nodes, self._local)
            train_pos = torch.nonzero(self.train_mask[block.src_nodes]).flatten()
            yield Batch((block,) * self.layers, block.src_nodes, train_pos, scanned)


class FullBatchSampler(Sampler):
    """Whole-graph training: one batch per epoch, built once (sampling costs nothing per epoch)."""

    def __init__(self, graph: GraphData, layers: int, train_mask: Tensor):
        self.layers = layers
        nodes = torch.arange(graph.num_nodes)
        owner = torch.repeat_interleave(nodes, graph.degree)
        block = Block(nodes, graph.num_nodes, owner, graph.indices)
        self._batch = Batch((block,) * layers, nodes, torch.nonzero(train_mask).flatten(), 0)

    def batches_per_epoch(self) -> int:
        return 1

    def epoch(self) -> Iterator[Batch]:
        yield self._batch


def csr_adjacency(block: Block, values: Tensor) -> Tensor:
    """(n_dst, n_src) sparse CSR matrix of the block with the given (e,) edge values."""
    crow = torch.zeros(block.n_dst + 1, dtype=torch.long)
    crow[1:] = torch.cumsum(torch.bincount(block.edge_dst, minlength=block.n_dst), 0)
    with warnings.catch_warnings():  # torch flags sparse CSR as beta on first use
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, block.edge_src, values, (block.n_dst, block.n_src))
