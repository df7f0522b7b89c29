"""A GNN training configuration (the knobs GNNavigator explores) and the design space they span.

GNNavigator (Qiu et al., DAC 2024, arXiv 2404.09544) tunes a GNN training backend's sampling, caching and
pipelining knobs together with the model's width and depth. Its exact space is not public; ours is:

- ``sampler``: ``neighbor`` (per-layer ``fanouts``), ``cluster`` or ``full`` (see ``tools.gnn.sampling``);
- ``batch_size``: seed nodes per batch (neighbour sampling) or nodes per subgraph (cluster sampling);
- ``hidden`` and ``layers``: the GNN's width and depth (GraphSAGE or GCN);
- ``cache_policy`` / ``cache_ratio``: which node features live on the compute device (by degree as in PaGraph,
  Lin et al., SoCC 2020, or by pre-sampled visit counts as in GNNLab, Yang et al., EuroSys 2022) and how many;
- ``overlap``: sample and gather the next batch while the current one computes.

Cache and overlap change only where and when work happens, never the trained weights; the other knobs change
both cost and accuracy.
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.common import InputError

__all__ = (
    "GNNConfig",
    "DesignSpace",
    "DEFAULT_FANOUTS",
    "SamplerName",
    "CachePolicy",
    "ModelKind",
)

SamplerName = Literal["neighbor", "cluster", "full"]
CachePolicy = Literal["none", "degree", "presample"]
ModelKind = Literal["sage", "gcn"]
DEFAULT_FANOUTS = (25, 10, 5, 5)
"""Fan-outs by hop when the request names only a depth: GraphSAGE's 25/10 (Hamilton et al. 2017, S1 = 25,
S2 = 10), then 5 per further hop as PyG's ogbn-products example (15/10/5) shrinks them."""
MAX_FANOUT = 1000
DEFAULT_CACHE_RATIO = 0.25
"""Cache size when only a policy is named: a quarter of the nodes (GNNLab and PaGraph report most of the
hit rate from the hottest 10-30 % on power-law graphs)."""


class GNNConfig(BaseModel):
    """One point of the design space. ``GNNConfig()`` is the reference: GraphSAGE, 25/10, batch 1024, no cache."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelKind = Field("sage", description="GNN layer: GraphSAGE (mean aggregator) or GCN.")
    sampler: SamplerName = Field("neighbor", description="How batches are formed.")
    layers: int = Field(2, ge=1, le=4, description="Message-passing layers (the receptive field in hops).")
    fanouts: tuple[int, ...] | None = Field(
        None, description="Neighbours kept per hop from the seeds outwards, -1 = all; neighbour sampling only."
    )
    batch_size: int = Field(1024, ge=1, le=1_000_000, description="Seeds per batch, or nodes per cluster batch.")
    hidden: int = Field(256, ge=4, le=4096, description="Hidden width of every layer but the last.")
    cache_policy: CachePolicy = Field("none", description="Which node features are cached on the compute device.")
    cache_ratio: float = Field(0.0, ge=0.0, le=1.0, description="Fraction of all nodes whose features are cached.")
    overlap: bool = Field(False, description="Prepare the next batch in a background thread while this one computes.")

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: object) -> object:
        """Fill what a partial request implies: neighbour sampling without fan-outs gets the defaults for its
        depth and the depth follows given fan-outs; a cache policy without a ratio caches
        ``DEFAULT_CACHE_RATIO``, and a ratio without a policy caches by degree."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("sampler", "neighbor") == "neighbor":
            if data.get("fanouts") is None:
                data["fanouts"] = DEFAULT_FANOUTS[: int(data.get("layers", 2))]
            elif "layers" not in data:
                data["layers"] = len(data["fanouts"])
        if data.get("cache_policy", "none") != "none" and "cache_ratio" not in data:
            data["cache_ratio"] = DEFAULT_CACHE_RATIO
        if data.get("cache_ratio") and "cache_policy" not in data:
            data["cache_policy"] = "degree"
        return data

    @model_validator(mode="after")
    def _check(self) -> GNNConfig:
        if self.sampler != "neighbor" and self.fanouts is not None:
            raise InputError("fanouts", list(self.fanouts), "no fan-outs unless sampler='neighbor'")
        if self.fanouts is not None:
            if len(self.fanouts) != self.layers:
                raise InputError("fanouts", list(self.fanouts), f"one fan-out per layer ({self.layers} values)")
            if any(f == 0 or f < -1 or f > MAX_FANOUT for f in self.fanouts):
                raise InputError("fanouts", list(self.fanouts), f"integers from 1 to {MAX_FANOUT}, or -1 for all")
        if (self.cache_policy == "none") != (self.cache_ratio == 0.0):
            raise InputError(
                "cache_ratio" if self.cache_policy != "none" else "cache_policy",
                self.cache_ratio if self.cache_policy != "none" else self.cache_policy,
                "a cache_ratio above 0 with cache_policy 'degree' or 'presample', or cache_policy 'none' with 0",
            )
        if self.sampler == "full" and self.overlap:
            raise InputError("overlap", True, "False with sampler='full' (one batch per epoch, nothing to overlap)")
        return self

    def sampling_key(self) -> tuple[object, ...]:
        """The knobs that decide the sampled subgraphs (and so the workload)."""
        return (self.sampler, self.fanouts, self.layers, None if self.sampler == "full" else self.batch_size)

    def accuracy_key(self) -> tuple[object, ...]:
        """The knobs that decide the trained weights; cache and overlap are not among them."""
        return (self.model, *self.sampling_key(), self.hidden)

    def label(self) -> str:
        """Short human-readable name, e.g. ``sage nb 25/10 b1024 h256 cache degree 0.25 ovl``."""
        if self.sampler == "neighbor":
            assert self.fanouts is not None
            samp = "nb " + "/".join("all" if f < 0 else str(f) for f in self.fanouts) + f" b{self.batch_size}"
        elif self.sampler == "cluster":
            samp = f"cluster L{self.layers} b{self.batch_size}"
        else:
            samp = f"full L{self.layers}"
        cache = "" if self.cache_policy == "none" else f" cache {self.cache_policy} {self.cache_ratio:g}"
        return f"{self.model} {samp} h{self.hidden}{cache}{' ovl' if self.overlap else ''}"


class DesignSpace(BaseModel):
    """The grid the explorer searches: every combination of the listed values (invalid ones skipped)."""

    model_config = ConfigDict(extra="forbid")

    model: ModelKind = Field("sage", description="The application's GNN layer (not searched).")
    samplers: list[SamplerName] = Field(["neighbor", "cluster", "full"], min_length=1)
    fanout_levels: list[int] = Field(
        [5, 10, 25], min_length=1, description="Per-hop fan-outs; non-increasing from the seeds outwards."
    )
    layers: list[int] = Field([2, 3], min_length=1)
    batch_sizes: list[int] = Field([256, 512, 1024, 2048, 4096], min_length=1)
    hiddens: list[int] = Field([64, 128, 256], min_length=1)
    cache_policies: list[CachePolicy] = Field(["none", "degree", "presample"], min_length=1)
    cache_ratios: list[float] = Field([0.05, 0.1, 0.25, 0.5, 1.0], description="Used by the non-'none' policies.")
    overlap: list[bool] = Field([False, True], min_length=1)

    def configs(self) -> list[GNNConfig]:
        """All valid configurations, in a fixed order."""
        out: list[GNNConfig] = []
        caches = [("none", 0.0)] * ("none" in self.cache_policies) + [
            (p, r) for p in self.cache_policies if p != "none" for r in self.cache_ratios if r > 0
        ]
        if not caches:
            raise InputError("cache_policies", self.cache_policies, "'none' or a policy with cache_ratios above 0")
        for sampler, depth in itertools.product(self.samplers, self.layers):
            if sampler == "neighbor":
                fans = [f for f in itertools.product(sorted(self.fanout_levels, reverse=True), repeat=depth)
                        if list(f) == sorted(f, reverse=True)]
                sampling = [(f, b) for f in fans for b in self.batch_sizes]
            elif sampler == "cluster":
                sampling = [(None, b) for b in self.batch_sizes]
            else:
                sampling = [(None, 1024)]
            for (fans_, batch), hidden, (policy, ratio), ovl in itertools.product(
                sampling, self.hiddens, caches, self.overlap
            ):
                if sampler == "full" and ovl:
                    continue
                out.append(GNNConfig(model=self.model, sampler=sampler, layers=depth, fanouts=fans_, batch_size=batch,
                                     hidden=hidden, cache_policy=policy, cache_ratio=ratio, overlap=ovl))
        return out
