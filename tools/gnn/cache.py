"""Feature store with a device-side cache of hot node features (PaGraph / GNNLab policies).

Mini-batch GNN training spends much of its time moving the input nodes' features from host memory to the
compute device. Caching the features of frequently visited nodes on the device removes that traffic for
cache hits:

- ``degree`` (PaGraph, Lin et al., SoCC 2020): cache the highest-degree nodes, since neighbour sampling
  reaches a node with probability that grows with its degree;
- ``presample`` (GNNLab, Yang et al., EuroSys 2022, "PreSC"): run the sampler for a few batches before
  training, count how often each node is an input, cache the most visited (ties broken by degree).

On a CUDA device the host features are pinned and misses are gathered on the host and copied over PCIe;
on the CPU device "host" and "device" share memory, so a hit and a miss cost about the same gather and the
cache only costs memory: the performance model learns that from the measurements.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tools.common import InputError
from tools.gnn.graphs import GraphData
from tools.gnn.sampling import Sampler

__all__ = ("FeatureStore", "cache_order", "PRESAMPLE_BATCHES")

PRESAMPLE_BATCHES = 8
"""Batches run by the pre-sampling policy (GNNLab pre-samples one epoch; a few batches rank hubs the same)."""


def cache_order(graph: GraphData, policy: str, presampler: Sampler | None = None) -> Tensor:
    """(N,) node ids, hottest first, for ``policy`` ``degree`` or ``presample``.

    Args:
        presampler: a sampler with its own generator (so training's random stream is untouched), needed for
            ``presample``.
    """
    degree = graph.degree.double()
    if policy == "degree":
        return torch.argsort(degree, descending=True, stable=True)
    if policy != "presample" or presampler is None:
        raise InputError("cache_policy", policy, "'degree', or 'presample' together with a pre-sampler")
    visits = torch.zeros(graph.num_nodes, dtype=torch.float64)
    for i, batch in enumerate(presampler.epoch()):
        if i == PRESAMPLE_BATCHES:
            break
        visits.index_add_(0, batch.input_nodes, torch.ones(batch.input_nodes.numel(), dtype=torch.float64))
    score = visits + degree / (degree.max() + 1.0)  # degree only breaks ties between equal counts
    return torch.argsort(score, descending=True, stable=True)


class FeatureStore:
    """Host features plus the device cache; ``gather(ids)`` returns (len(ids), F) features on the device.

    Args:
        x: (N, F) host features.
        cached: node ids whose features are copied to the device once, at construction.
        device: the compute device.
    """

    def __init__(self, x: Tensor, cached: Tensor, device: torch.device):
        self.device = device
        self.host = x.pin_memory() if device.type == "cuda" else x
        self.slot: Tensor | None = None
        self.cache: Tensor | None = None
        if cached.numel():
            self.slot = torch.full((x.shape[0],), -1, dtype=torch.long)  # node -> row of the cache, -1 = not cached
            self.slot[cached] = torch.arange(cached.numel())
            self.cache = x[cached].to(device)

    @property
    def cache_bytes(self) -> int:
        """Device bytes held by the cache (features plus the host-side slot map)."""
        if self.cache is None or self.slot is None:
            return 0
        return self.cache.numel() * self.cache.element_size() + self.slot.numel() * 8

    def gather(self, ids: Tensor) -> tuple[Tensor, int]:
        """Features of ``ids`` on the device and how many were cache hits."""
        if self.cache is None or self.slot is None:
            return self.host[ids].to(self.device, non_blocking=True), 0
        slot = self.slot[ids]
        hit = slot >= 0
        hit_pos = torch.nonzero(hit).flatten()
        miss_pos = torch.nonzero(~hit).flatten()
        out = torch.empty(ids.numel(), self.host.shape[1], device=self.device)
        out[hit_pos.to(self.device)] = self.cache[slot[hit_pos].to(self.device)]
        out[miss_pos.to(self.device)] = self.host[ids[miss_pos]].to(self.device, non_blocking=True)
        return out, int(hit_pos.numel())
