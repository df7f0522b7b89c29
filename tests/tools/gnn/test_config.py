"""Configuration knobs: defaults, what a partial request implies, errors that name the knob, the design space."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tools.gnn.config import DEFAULT_CACHE_RATIO, DesignSpace, GNNConfig


def test_default_is_graphsage_25_10_batch_1024_without_cache() -> None:
    cfg = GNNConfig()
    assert (cfg.model, cfg.sampler, cfg.fanouts, cfg.layers, cfg.batch_size) == ("sage", "neighbor", (25, 10), 2, 1024)
    assert (cfg.cache_policy, cfg.cache_ratio, cfg.overlap) == ("none", 0.0, False)
    assert cfg.label() == "sage nb 25/10 b1024 h256"


def test_partial_requests_fill_depth_fanouts_and_cache() -> None:
    assert GNNConfig(fanouts=[10, 5, 5]).layers == 3
    assert GNNConfig(layers=3).fanouts == (25, 10, 5)
    assert GNNConfig(cache_policy="presample").cache_ratio == DEFAULT_CACHE_RATIO
    assert GNNConfig(cache_ratio=0.1).cache_policy == "degree"
    assert GNNConfig(sampler="cluster", layers=3).fanouts is None


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"fanouts": [10, 5], "layers": 3}, "fanouts"),
        ({"fanouts": [10, 0]}, "fanouts"),
        ({"fanouts": [10, -2]}, "fanouts"),
        ({"sampler": "full", "fanouts": [5, 5]}, "fanouts"),
        ({"cache_policy": "degree", "cache_ratio": 0.0}, "cache_ratio"),
        ({"cache_policy": "none", "cache_ratio": 0.3}, "cache_policy"),
        ({"cache_ratio": 1.5}, "cache_ratio"),
        ({"sampler": "full", "overlap": True}, "overlap"),
        ({"sampler": "metis"}, "sampler"),
        ({"batch_size": 0}, "batch_size"),
        ({"hidden": 2}, "hidden"),
        ({"layers": 7}, "layers"),
        ({"hiden": 64}, "hiden"),
    ],
)
def test_bad_knobs_are_rejected_by_name(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        GNNConfig(**kwargs)


def test_cache_and_overlap_do_not_change_the_accuracy_key() -> None:
    base = GNNConfig()
    assert GNNConfig(cache_policy="degree", overlap=True).accuracy_key() == base.accuracy_key()
    assert GNNConfig(hidden=64).accuracy_key() != base.accuracy_key()
    assert GNNConfig(hidden=64).sampling_key() == base.sampling_key()
    assert GNNConfig(sampler="full", batch_size=64).sampling_key() == GNNConfig(sampler="full").sampling_key()


def test_design_space_enumerates_every_valid_combination_once() -> None:
    space = DesignSpace(samplers=["neighbor", "full"], fanout_levels=[5, 10], layers=[2], batch_sizes=[256, 512],
                        hiddens=[64], cache_policies=["none", "degree"], cache_ratios=[0.5], overlap=[False, True])
    cfgs = space.configs()
    # neighbour: fan-outs (10,10) (10,5) (5,5) x 2 batches x (no cache, degree 0.5) x overlap 2 = 24;
    # full batch: 2 caches, overlap off only = 2
    assert len(cfgs) == 26 and len(set(cfgs)) == 26
    assert all(c.fanouts is None or list(c.fanouts) == sorted(c.fanouts, reverse=True) for c in cfgs)
    assert not any(c.sampler == "full" and c.overlap for c in cfgs)


def test_default_design_space_is_large_and_contains_the_reference_knobs() -> None:
    cfgs = DesignSpace().configs()
    assert len(cfgs) > 5_000
    assert GNNConfig(fanouts=[25, 10], batch_size=1024, hidden=256) in set(cfgs)
