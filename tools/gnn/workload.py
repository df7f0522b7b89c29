"""Workload of a configuration without training it: a few sampled batches, counted (the model's inputs).

GNNavigator's performance model is gray-box: its terms are the work the backend does (sampled nodes and
edges, feature rows moved, FLOPs), and only their costs are fitted. The work itself depends on the sampler,
fan-outs, depth and batch size and on the graph, so it is measured the cheap way: draw ``WORKLOAD_BATCHES``
batches with the configuration's sampler (milliseconds, no training) and count them. Cache hit rates come
from the same batches against the cache each policy would build, ranked on batches from a different random
stream, as at training time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from tools.gnn.cache import cache_order
from tools.gnn.config import GNNConfig
from tools.gnn.graphs import GraphData
from tools.gnn.sampling import Batch, FullBatchSampler, NeighborSampler
from tools.gnn.train import make_sampler

__all__ = ("BatchShape", "Workload", "WorkloadCache", "WORKLOAD_BATCHES")

WORKLOAD_BATCHES = 4


@dataclass(frozen=True)
class BatchShape:
    """Sizes of one batch (or their mean over batches): per layer, input layer first."""

    n_dst: tuple[float, ...]
    n_src: tuple[float, ...]
    edges: tuple[float, ...]
    scanned: float

    @property
    def rows(self) -> float:
        """Feature rows the first layer reads."""
        return self.n_src[0]

    @staticmethod
    def of(batch: Batch) -> BatchShape:
        return BatchShape(
            tuple(float(b.n_dst) for b in batch.blocks),
            tuple(float(b.n_src) for b in batch.blocks),
            tuple(float(b.n_edges) for b in batch.blocks),
            float(batch.scanned),
        )

    @staticmethod
    def mean(shapes: list[BatchShape]) -> BatchShape:
        k = len(shapes)
        return BatchShape(
            tuple(sum(s.n_dst[i] for s in shapes) / k for i in range(len(shapes[0].n_dst))),
            tuple(sum(s.n_src[i] for s in shapes) / k for i in range(len(shapes[0].n_src))),
            tuple(sum(s.edges[i] for s in shapes) / k for i in range(len(shapes[0].edges))),
            sum(s.scanned for s in shapes) / k,
        )


@dataclass
class Workload:
    """What one epoch of a sampling configuration carries.

    Attributes:
        batches: batches per epoch, fractional (a short last batch counts by its size).
        mean: the average batch; ``peak``: the batch with the most input rows (it sets peak memory).
        max_scanned: the most adjacency entries one batch's sampling examined (its temporaries).
        inputs: input node ids of the sampled batches, for hit-rate estimates.
    """

    batches: float
    mean: BatchShape
    peak: BatchShape
    max_scanned: float
    inputs: list[Tensor]
    _hits: dict[tuple[str, float], float] = field(default_factory=dict)


class WorkloadCache:
    """Workloads of one graph, sampled once per sampling configuration and reused for every other knob."""

    def __init__(self, graph: GraphData, seed: int = 0):
        self.graph = graph
        self.seed = seed
        self._workloads: dict[tuple[object, ...], Workload] = {}
        self._orders: dict[tuple[object, ...], Tensor] = {}
        self.memo: dict[object, object] = {}
        """Derived per-configuration values (the performance model's feature rows), kept with the workloads."""

    def get(self, cfg: GNNConfig) -> Workload:
        """The workload of ``cfg``'s sampler (computed on first use)."""
        key = cfg.sampling_key()
        if key not in self._workloads:
            self._workloads[key] = self._sample(cfg)
        return self._workloads[key]

    def _sample(self, cfg: GNNConfig) -> Workload:
        sampler = make_sampler(self.graph, cfg, torch.Generator().manual_seed(self.seed + 2))
        shapes, inputs = [], []
        for i, batch in enumerate(sampler.epoch()):
            if i == WORKLOAD_BATCHES:
                break
            shapes.append(BatchShape.of(batch))
            inputs.append(batch.input_nodes)
        if isinstance(sampler, NeighborSampler):  # seeds per epoch over the sampled batches' mean seeds
            batches = sampler.seeds.numel() / (sum(s.n_dst[-1] for s in shapes) / len(shapes))
        elif isinstance(sampler, FullBatchSampler):
            batches = 1.0
        else:
            batches = float(sampler.batches_per_epoch())
        peak = max(shapes, key=lambda s: s.rows)
        return Workload(batches, BatchShape.mean(shapes), peak, max(s.scanned for s in shapes), inputs)

    def hit_rate(self, cfg: GNNConfig) -> float:
        """Expected fraction of input rows served by ``cfg``'s cache."""
        if cfg.cache_policy == "none":
            return 0.0
        wl = self.get(cfg)
        key = (cfg.cache_policy, cfg.cache_ratio)
        if key not in wl._hits:
            order = self._order(cfg)
            cached = torch.zeros(self.graph.num_nodes, dtype=torch.bool)
            cached[order[: round(cfg.cache_ratio * self.graph.num_nodes)]] = True
            total = sum(t.numel() for t in wl.inputs)
            wl._hits[key] = sum(int(cached[t].sum()) for t in wl.inputs) / max(1, total)
        return wl._hits[key]

    def _order(self, cfg: GNNConfig) -> Tensor:
        key = ("degree",) if cfg.cache_policy == "degree" else ("presample", *cfg.sampling_key())
        if key not in self._orders:
            pre = None
            if cfg.cache_policy == "presample":
                pre = make_sampler(self.graph, cfg, torch.Generator().manual_seed(self.seed + 1))
            self._orders[key] = cache_order(self.graph, cfg.cache_policy, pre)
        return self._orders[key]
