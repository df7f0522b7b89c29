"""Gray-box performance model of GNN training: runtime, peak memory and accuracy of a configuration.

GNNavigator (Qiu et al., DAC 2024, arXiv 2404.09544, Sec. 4) models each training stage from the work it does
and fits the per-unit costs on a few profiled runs. Ours, per batch, with the workload counted by
``tools.gnn.workload`` (no code of the paper is public; the terms below are ours):

- sampling ``t_s = a0 + a1 hops + a2 scanned + a3 edges + a4 nodes`` (per-hop overhead, adjacency entries
  shuffled or filtered, edges kept, sampled nodes; zero for full-batch training, whose graph is built once);
- feature movement ``t_m = b0 + b1 miss_elems + b2 hit_elems + b3 rows [cache on]`` with
  ``hit_elems = hit_rate x rows x F``;
- compute ``t_c = c0 + c1 layers + c2 dense_flops + c3 sparse_flops + c4 elementwise + c5 params``
  (``tools.gnn.nets.batch_flops``; Adam touches every parameter);
- epoch ``T = batches x (t_s + t_m + t_c + o)``, or with overlap ``batches x (max(t_s + t_m, t_c) +
  g min(t_s + t_m, t_c) + o)``, ``g`` in [0, 1] fitted on overlapped runs (1 = no overlap won);
- peak memory ``M = 4 P + cache + m_in input + m_act activations + m_e edges + m_s sampling + m0`` bytes:
  parameters with their gradient and Adam's two moments (Kingma & Ba 2015), the cache exactly, and fitted
  multipliers of the peak batch's gathered features, activations ``sum_l n_dst (d_in + 2 d_out)`` x 4 B,
  block indices ``sum_l (20 e + 8 n_dst)`` B, and the sampler's temporaries (8 B per adjacency entry it
  shuffles; hubs of power-law graphs make them large); overlap keeps a second batch's inputs and blocks alive;
- accuracy: a Gaussian process (Matern 5/2 with a noise term, scikit-learn) over the knobs that change the
  trained weights; a configuration whose weights were already trained (same knobs but cache/overlap) gets
  the measured accuracy. Runs cut short by a time or step limit did not finish training and are left out.

Costs are fitted by non-negative least squares on relative residuals (scipy ``nnls``), so a fast run weighs
as much as a slow one. Before any fit, :meth:`PerfModel.prior` holds the memory multipliers that count
each saved tensor once plus its gradient (used to refuse configurations that cannot fit).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from tools.common import InputError
from tools.gnn.config import GNNConfig
from tools.gnn.nets import batch_flops, layer_dims
from tools.gnn.runs import ProfileRecord
from tools.gnn.train import MIB
from tools.gnn.workload import BatchShape, WorkloadCache

__all__ = ("Coefficients", "Prediction", "PerfModel", "relative_errors", "FEATURES")

FEATURES = {
    "sample": ("const", "hops", "scanned", "edges", "nodes"),
    "move": ("const", "miss_elems", "hit_elems", "cache_rows"),
    "compute": ("const", "layers", "dense_flops", "sparse_flops", "elementwise", "params"),
    "memory": ("input_bytes", "act_bytes", "edge_bytes", "sample_bytes", "const"),
}
_PRIOR_MEMORY = (1.0, 2.0, 1.0, 4.0, 0.0)
"""Before any fit: inputs once, activations twice (saved + gradient), block indices once, the sampler's
shuffle arrays (segment, rank, key, order: four 8-byte values per entry), no constant."""


class Coefficients(BaseModel):
    """Fitted per-unit costs (seconds per unit, bytes per byte) by phase, in ``FEATURES`` order."""

    sample: list[float] = Field(default_factory=lambda: [0.0] * len(FEATURES["sample"]))
    move: list[float] = Field(default_factory=lambda: [0.0] * len(FEATURES["move"]))
    compute: list[float] = Field(default_factory=lambda: [0.0] * len(FEATURES["compute"]))
    memory: list[float] = Field(default_factory=lambda: list(_PRIOR_MEMORY))
    overhead_s: float = Field(0.0, description="Per-batch loop overhead beyond the three phases.")
    overlap_gain: float = Field(1.0, ge=0.0, le=1.0, description="g: the share of the shorter phase not hidden.")
    fitted_on: int = Field(0, description="Profiled runs behind the fit (0 = prior).")


@dataclass(frozen=True)
class Prediction:
    """Predicted epoch time by phase (s), peak memory (MiB) and validation accuracy with its std."""

    epoch_s: float
    sample_s: float
    move_s: float
    compute_s: float
    peak_mb: float
    val_acc: float
    acc_std: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in self.__dict__.items()}


def _rows(cfg: GNNConfig, wl: WorkloadCache) -> dict[str, np.ndarray]:
    """Feature rows of every phase for one configuration (per batch; memory for the peak batch), memoised."""
    key = ("rows", cfg)
    if key not in wl.memo:
        wl.memo[key] = _compute_rows(cfg, wl)
    return wl.memo[key]  # type: ignore[return-value]


def _compute_rows(cfg: GNNConfig, wl: WorkloadCache) -> dict[str, np.ndarray]:
    graph = wl.graph
    work = wl.get(cfg)
    dims = layer_dims(graph.feat_dim, cfg.hidden, graph.num_classes, cfg.layers)
    params = sum(a * b + b + (a * b if cfg.model == "sage" else 0) for a, b in dims)
    mean: BatchShape = work.mean
    flops = batch_flops(cfg.model, dims, list(mean.n_dst), list(mean.edges))
    hit = wl.hit_rate(cfg)
    elems = mean.rows * graph.feat_dim
    sampled = cfg.sampler != "full"
    peak = work.peak
    copies = 2.0 if cfg.overlap else 1.0
    act = sum(n * (a + 2 * b) for (a, b), n in zip(dims, peak.n_dst)) * 4.0
    edge_bytes = sum(20.0 * e + 8.0 * n for e, n in zip(peak.edges, peak.n_dst))
    return {
        "sample": np.array([1.0, float(cfg.layers), mean.scanned, sum(mean.edges), sum(mean.n_src)]) * sampled,
        "move": np.array([1.0, (1 - hit) * elems, hit * elems, mean.rows * (cfg.cache_policy != "none")]),
        "compute": np.array([1.0, float(cfg.layers), flops["dense"], flops["sparse"], flops["elementwise"],
                             float(params)]),
        "memory": np.array([copies * peak.rows * graph.feat_dim * 4.0, act, copies * edge_bytes,
                            8.0 * work.max_scanned * sampled, 1.0]),
        "fixed_bytes": np.array([4.0 * 4 * params + _cache_bytes(cfg, graph.num_nodes, graph.feat_dim)]),
        "batches": np.array([work.batches]),
    }


def _cache_bytes(cfg: GNNConfig, num_nodes: int, feat_dim: int) -> float:
    if cfg.cache_policy == "none":
        return 0.0
    return round(cfg.cache_ratio * num_nodes) * feat_dim * 4.0 + num_nodes * 8.0  # rows + slot map


def _nnls_relative(x: np.ndarray, y: np.ndarray) -> list[float]:
    """Non-negative least squares of ``x c ~ y`` on relative residuals (rows scaled by 1 / y)."""
    from scipy.optimize import nnls

    keep = y > 0
    if keep.sum() == 0:
        return [0.0] * x.shape[1]
    xs, ys = x[keep] / y[keep, None], np.ones(int(keep.sum()))
    scale = np.abs(xs).max(0)
    scale[scale == 0] = 1.0
    coef, _ = nnls(xs / scale, ys)
    return (coef / scale).tolist()


class PerfModel:
    """Runtime, memory and accuracy predictions for the configurations of one graph."""

    def __init__(self, coef: Coefficients, accuracy: list[tuple[GNNConfig, float]] | None = None):
        self.coef = coef
        self._acc_known: dict[tuple[object, ...], list[float]] = {}
        for cfg, acc in accuracy or []:
            self._acc_known.setdefault(cfg.accuracy_key(), []).append(acc)
        self._gp = None
        self._acc_mean = float(np.mean([a for _, a in accuracy])) if accuracy else 0.0

    @classmethod
    def prior(cls) -> PerfModel:
        """Unfitted: memory from the analytic multipliers, no time or accuracy knowledge."""
        return cls(Coefficients())

    @classmethod
    def fit(cls, records: list[ProfileRecord], workloads: WorkloadCache | dict[str, WorkloadCache]) -> PerfModel:
        """Fit every cost on the launched runs among ``records``.

        Args:
            workloads: the graph's workloads, or one per graph name: per-unit costs are the machine's, not the
                graph's, so runs on small graphs can predict big ones (accuracy is then not modelled).
        """
        runs = [r for r in records if r.launched and r.epoch_s is not None]
        if not runs:
            return cls.prior()
        by_graph = workloads if isinstance(workloads, dict) else {workloads.graph.name: workloads}
        missing = {r.graph for r in runs} - set(by_graph)
        if missing:
            raise InputError("records", sorted(missing), f"runs on the graphs given ({', '.join(by_graph)})")
        pairs = [(r, _rows(r.config, by_graph[r.graph])) for r in runs]
        plain = [(r, x) for r, x in pairs if not r.config.overlap]
        coef = Coefficients(fitted_on=len(runs))
        for phase in ("sample", "move", "compute"):  # with overlap the phases contend, so fit on plain runs
            setattr(coef, phase, _fit_phase(phase, plain or pairs))
        gaps = [(r.epoch_s - (r.sample_s + r.move_s + r.compute_s)) / x["batches"][0] for r, x in plain]
        coef.overhead_s = max(0.0, float(np.median(gaps))) if gaps else 0.0
        coef.overlap_gain = _fit_overlap_gain(coef, [(r, x) for r, x in pairs if r.config.overlap])
        mem = [(x["memory"], r.peak_mb * MIB - x["fixed_bytes"][0]) for r, x in pairs if r.peak_mb]
        if mem:
            coef.memory = _nnls_relative(np.array([m[0] for m in mem]), np.array([max(m[1], 1.0) for m in mem]))
        if isinstance(workloads, dict) and len(workloads) > 1:
            return cls(coef)  # accuracy belongs to one graph
        # a run cut short (max_seconds / max_steps) did not finish training: its accuracy is not the config's
        model = cls(coef, [(r.config, r.val_acc) for r in runs if r.val_acc is not None and not r.truncated])
        model._fit_accuracy(runs, next(iter(by_graph.values())))
        return model

    def _fit_accuracy(self, runs: list[ProfileRecord], workloads: WorkloadCache) -> None:
        """Gaussian process over the accuracy knobs, one point per distinct trained model."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        keys = {r.config.accuracy_key(): r.config for r in runs if r.config.accuracy_key() in self._acc_known}
        if len(keys) < 3:
            return
        x = np.array([_acc_features(c, workloads) for c in keys.values()])
        y = np.array([np.mean(self._acc_known[k]) for k in keys])
        # accuracy units, not normalised: the noise floor is a measurement's spread (0.5 point; a validation
        # set of 2,000 nodes at 80 % accuracy has a binomial spread of 0.9 point), the prior spread 10 points
        kernel = ConstantKernel(0.01, (1e-4, 0.1)) * Matern(np.ones(x.shape[1]), (1e-2, 1e2), nu=2.5) + \
            WhiteKernel(1e-4, (2.5e-5, 1e-2))
        self._gp = GaussianProcessRegressor(kernel, normalize_y=False, n_restarts_optimizer=2, random_state=0)
        with warnings.catch_warnings():  # length scales at their bounds are expected with a handful of runs
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._acc_mean = float(y.mean())
            self._gp.fit(x, y - self._acc_mean)

    def predict_many(self, cfgs: list[GNNConfig], workloads: WorkloadCache) -> list[Prediction]:
        """Predictions for many configurations (accuracy in one Gaussian-process call)."""
        acc = np.full(len(cfgs), self._acc_mean)
        std = np.full(len(cfgs), 1.0)
        unknown = [i for i, c in enumerate(cfgs) if c.accuracy_key() not in self._acc_known]
        for i, c in enumerate(cfgs):
            if c.accuracy_key() in self._acc_known:
                acc[i], std[i] = float(np.mean(self._acc_known[c.accuracy_key()])), 0.0
        if self._gp is not None and unknown:
            mu, sd = self._gp.predict(np.array([_acc_features(cfgs[i], workloads) for i in unknown]), return_std=True)
            acc[unknown], std[unknown] = mu + self._acc_mean, sd
        return [self._predict_cost(c, workloads, float(a), float(s)) for c, a, s in zip(cfgs, acc, std)]

    def save(self, path: Path, graph: str, records: list[ProfileRecord]) -> None:
        """Write the coefficients and the runs behind them (the accuracy model is refitted from the runs)."""
        path.write_text(json.dumps({
            "graph": graph,
            "coefficients": self.coef.model_dump(),
            "features": FEATURES,
            "records": [r.model_dump(mode="json") for r in records],
        }, indent=1))

    @classmethod
    def load(cls, path: Path, workloads: WorkloadCache) -> PerfModel:
        """Refit a saved model on its runs; the graph must be the one it was fitted on."""
        data = json.loads(path.read_text())
        if data["graph"] != workloads.graph.name:
            raise InputError("model_path", str(path), f"a model fitted on {workloads.graph.name} "
                             f"(this one was fitted on {data['graph']})")
        return cls.fit([ProfileRecord.model_validate(r) for r in data["records"]], workloads)

    def predict(self, cfg: GNNConfig, workloads: WorkloadCache) -> Prediction:
        return self.predict_many([cfg], workloads)[0]

    def _predict_cost(self, cfg: GNNConfig, workloads: WorkloadCache, acc: float, std: float) -> Prediction:
        x = _rows(cfg, workloads)
        nb = float(x["batches"][0])
        ts, tm, tc = (_cost(self.coef, x, p) for p in ("sample", "move", "compute"))
        if cfg.overlap:
            per_batch = max(ts + tm, tc) + self.coef.overlap_gain * min(ts + tm, tc)
        else:
            per_batch = ts + tm + tc
        mem = float(np.dot(self.coef.memory, x["memory"]) + x["fixed_bytes"][0])
        return Prediction(nb * (per_batch + self.coef.overhead_s), nb * ts, nb * tm, nb * tc, mem / MIB, acc, std)


def _cost(coef: Coefficients, x: dict[str, np.ndarray], phase: str) -> float:
    """Seconds per batch of one phase."""
    return float(np.dot(getattr(coef, phase), x[phase]))


def _fit_phase(phase: str, pairs: list[tuple[ProfileRecord, dict[str, np.ndarray]]]) -> list[float]:
    """Per-unit costs of one phase from its measured seconds per batch."""
    attr = f"{phase}_s"
    x = np.array([row[phase] for _, row in pairs])
    y = np.array([getattr(r, attr) / row["batches"][0] for r, row in pairs])
    return _nnls_relative(x, y)


def _fit_overlap_gain(coef: Coefficients, pairs: list[tuple[ProfileRecord, dict[str, np.ndarray]]]) -> float:
    """Least-squares g in ``T / batches - max(prep, compute) - o = g min(prep, compute)``, clipped to [0, 1];
    1 (nothing hidden) without overlapped runs."""
    num = den = 0.0
    for r, x in pairs:
        prep, comp = _cost(coef, x, "sample") + _cost(coef, x, "move"), _cost(coef, x, "compute")
        resid = r.epoch_s / x["batches"][0] - max(prep, comp) - coef.overhead_s
        num, den = num + resid * min(prep, comp), den + min(prep, comp) ** 2
    return float(min(1.0, max(0.0, num / den))) if den > 0 else 1.0


def _acc_features(cfg: GNNConfig, workloads: WorkloadCache) -> list[float]:
    """Knobs that change the trained weights, on log scales: ``all`` neighbours count as the mean degree."""
    graph = workloads.graph
    mean_degree = graph.num_edges / max(1, graph.num_nodes)
    fans = list(cfg.fanouts) if cfg.fanouts is not None else [-1] * cfg.layers
    fans = [mean_degree if f < 0 else float(f) for f in fans] + [0.0] * (4 - cfg.layers)
    batch = graph.train_idx.numel() if cfg.sampler == "full" else cfg.batch_size
    return [
        float(cfg.sampler == "neighbor"), float(cfg.sampler == "cluster"), float(cfg.sampler == "full"),
        *(math.log2(1.0 + f) / 5.0 for f in fans), math.log2(batch) / 12.0, math.log2(cfg.hidden) / 8.0,
        cfg.layers / 4.0, float(cfg.model == "gcn"),
    ]


def relative_errors(model: PerfModel, records: list[ProfileRecord], workloads: WorkloadCache) -> dict[str, float]:
    """Median relative error of epoch time and peak memory, mean absolute accuracy error, on ``records``."""
    runs = [r for r in records if r.launched and r.epoch_s is not None]
    if not runs:
        return {}
    preds = model.predict_many([r.config for r in runs], workloads)
    time_err = [abs(p.epoch_s - r.epoch_s) / r.epoch_s for p, r in zip(preds, runs)]
    mem_err = [abs(p.peak_mb - r.peak_mb) / r.peak_mb for p, r in zip(preds, runs) if r.peak_mb]
    acc_err = [abs(p.val_acc - r.val_acc) for p, r in zip(preds, runs) if r.val_acc is not None]
    return {
        "runs": float(len(runs)),
        "time_median_rel_error": float(np.median(time_err)),
        "time_max_rel_error": float(np.max(time_err)),
        "memory_median_rel_error": float(np.median(mem_err)) if mem_err else float("nan"),
        "memory_max_rel_error": float(np.max(mem_err)) if mem_err else float("nan"),
        "accuracy_mean_abs_error": float(np.mean(acc_err)) if acc_err else float("nan"),
    }
