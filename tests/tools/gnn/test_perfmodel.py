"""The gray-box model fitted on synthetic runs made from known per-unit costs (no timing noise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.common import InputError
from tools.gnn.config import DesignSpace, GNNConfig
from tools.gnn.graphs import GraphData, karate_graph, synthetic_graph
from tools.gnn.perfmodel import FEATURES, PerfModel, _rows, relative_errors
from tools.gnn.runs import ProfileRecord
from tools.gnn.train import MIB
from tools.gnn.workload import WorkloadCache

TRUE = {
    "sample": [2e-4, 1e-4, 3e-8, 5e-8, 2e-7],
    "move": [5e-5, 2e-9, 4e-10, 1e-8],
    "compute": [1e-4, 3e-4, 2e-11, 5e-10, 1e-9, 1e-8],
    "memory": [1.0, 2.5, 1.2, 3.0, 300_000.0],
}
OVERHEAD, GAIN = 1e-4, 0.4
SPACE = DesignSpace(fanout_levels=[5, 10], layers=[2, 3], batch_sizes=[64, 256], hiddens=[16, 64],
                    cache_ratios=[0.25, 1.0])


def _acc(cfg: GNNConfig) -> float:
    """A smooth made-up accuracy: wider and deeper is better."""
    return 0.7 + 0.02 * np.log2(cfg.hidden) + 0.01 * cfg.layers


def _synthetic_run(cfg: GNNConfig, wl: WorkloadCache) -> ProfileRecord:
    x = _rows(cfg, wl)
    nb = float(x["batches"][0])
    ts, tm, tc = (float(np.dot(TRUE[p], x[p])) for p in ("sample", "move", "compute"))
    per = max(ts + tm, tc) + GAIN * min(ts + tm, tc) if cfg.overlap else ts + tm + tc
    peak = float(np.dot(TRUE["memory"], x["memory"]) + x["fixed_bytes"][0]) / MIB
    return ProfileRecord(config=cfg, graph=wl.graph.name, device="cpu", epoch_s=nb * (per + OVERHEAD),
                         sample_s=nb * ts, move_s=nb * tm, compute_s=nb * tc, peak_mb=peak, val_acc=_acc(cfg),
                         test_acc=_acc(cfg))


@pytest.fixture(scope="module")
def graph() -> GraphData:
    return synthetic_graph("powerlaw", 2_000, seed=0)


@pytest.fixture(scope="module")
def split(graph: GraphData) -> tuple[WorkloadCache, list[ProfileRecord], list[ProfileRecord]]:
    wl = WorkloadCache(graph)
    cfgs = SPACE.configs()
    rng = np.random.default_rng(0)
    picked = [cfgs[i] for i in rng.choice(len(cfgs), 40, replace=False)]
    runs = [_synthetic_run(c, wl) for c in picked]
    return wl, runs[:28], runs[28:]


def test_fit_predicts_unseen_configurations_of_a_consistent_machine(split) -> None:
    wl, fitted, heldout = split
    model = PerfModel.fit(fitted, wl)
    err = relative_errors(model, heldout, wl)
    assert err["time_median_rel_error"] < 1e-3 and err["time_max_rel_error"] < 0.02
    assert err["memory_median_rel_error"] < 1e-3 and err["memory_max_rel_error"] < 0.02
    assert model.coef.overlap_gain == pytest.approx(GAIN, abs=0.02)
    assert model.coef.overhead_s == pytest.approx(OVERHEAD, rel=1e-3)
    assert model.coef.fitted_on == 28


def test_accuracy_is_exact_for_a_trained_model_and_interpolated_otherwise(split) -> None:
    wl, fitted, heldout = split
    model = PerfModel.fit(fitted, wl)
    seen = fitted[0].config.model_copy(update={"cache_policy": "none", "cache_ratio": 0.0, "overlap": False})
    p = model.predict(seen, wl)
    assert (p.val_acc, p.acc_std) == (pytest.approx(_acc(seen)), 0.0)
    unseen = [r for r in heldout if r.config.accuracy_key() not in {f.config.accuracy_key() for f in fitted}]
    preds = model.predict_many([r.config for r in unseen], wl)
    assert unseen and all(abs(q.val_acc - r.val_acc) < 0.02 and q.acc_std > 0 for q, r in zip(preds, unseen))


def test_prior_predicts_memory_from_the_analytic_terms_and_nothing_else(graph: GraphData) -> None:
    wl = WorkloadCache(graph)
    prior = PerfModel.prior()
    small, wide = (prior.predict(GNNConfig(sampler="full", hidden=h), wl) for h in (16, 512))
    assert small.epoch_s == 0.0 and small.acc_std == 1.0
    assert wide.peak_mb > 4 * small.peak_mb
    cached = prior.predict(GNNConfig(sampler="full", hidden=16, cache_policy="degree", cache_ratio=1.0), wl)
    cache_bytes = graph.num_nodes * graph.feat_dim * 4 + graph.num_nodes * 8
    assert (cached.peak_mb - small.peak_mb) * MIB == pytest.approx(cache_bytes)


def test_costs_fitted_on_a_small_graph_predict_a_larger_one(graph: GraphData) -> None:
    big = synthetic_graph("powerlaw", 6_000, seed=1)
    wl_small, wl_big = WorkloadCache(graph), WorkloadCache(big)
    space = SPACE.model_copy(update={"cache_policies": ["none", "degree"], "layers": [2]})
    cfgs = space.configs()[::3]
    model = PerfModel.fit([_synthetic_run(c, wl_small) for c in cfgs], {graph.name: wl_small})
    err = relative_errors(model, [_synthetic_run(c, wl_big) for c in cfgs[::4]], wl_big)
    assert err["time_median_rel_error"] < 0.01 and err["memory_median_rel_error"] < 0.01


def test_multi_graph_fit_needs_every_graph_and_skips_accuracy(graph: GraphData) -> None:
    big = synthetic_graph("powerlaw", 3_000, seed=1)
    wl_small, wl_big = WorkloadCache(graph), WorkloadCache(big)
    runs = [_synthetic_run(c, wl_small) for c in SPACE.configs()[:6]] + \
        [_synthetic_run(c, wl_big) for c in SPACE.configs()[6:12]]
    with pytest.raises(InputError, match="records"):
        PerfModel.fit(runs, {graph.name: wl_small})
    model = PerfModel.fit(runs, {graph.name: wl_small, big.name: wl_big})
    assert model.predict(SPACE.configs()[20], wl_big).acc_std == 1.0


def test_save_and_load_give_the_same_predictions(split, tmp_path: Path) -> None:
    wl, fitted, heldout = split
    model = PerfModel.fit(fitted, wl)
    model.save(tmp_path / "m.json", wl.graph.name, fitted)
    again = PerfModel.load(tmp_path / "m.json", wl)
    cfgs = [r.config for r in heldout]
    assert [p.as_dict() for p in again.predict_many(cfgs, wl)] == [p.as_dict() for p in model.predict_many(cfgs, wl)]
    with pytest.raises(InputError, match="model_path"):
        PerfModel.load(tmp_path / "m.json", WorkloadCache(karate_graph()))


def test_feature_rows_have_the_documented_terms(graph: GraphData) -> None:
    x = _rows(GNNConfig(fanouts=[5, 5], batch_size=64, hidden=16), WorkloadCache(graph))
    for phase, names in FEATURES.items():
        assert x[phase].shape == (len(names),)
    assert x["sample"][0] == 1.0 and x["sample"][1] == 2.0  # per batch, two hops
    full = _rows(GNNConfig(sampler="full"), WorkloadCache(graph))
    assert not full["sample"].any() and full["batches"][0] == 1.0
