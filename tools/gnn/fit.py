"""Fit the gray-box GNN training model on a handful of real runs and test it on runs it has not seen.

The reference configuration and ``runs - 1`` random configurations of the design space are profiled for real
and the model (``tools.gnn.perfmodel``) is fitted on them; ``holdout`` further random configurations are
profiled and predicted, and the median relative errors of epoch time and peak memory on those are the
model's honest accuracy. The fitted model is saved (``model.json``) for ``gnn_profile`` and reuse.
"""

from __future__ import annotations

import json
import random

from pydantic import Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.gnn.config import DesignSpace, GNNConfig
from tools.gnn.runs import GraphArgs, ProfileRecord, TrainSettings

__all__ = ("GNNFitArgs", "GNNFitResult", "HeldOut", "run_gnn_fit")


class GNNFitArgs(GraphArgs):
    """How many runs to fit on and to hold out, drawn from which space."""

    train: TrainSettings = Field(default_factory=TrainSettings, description="Epochs, seed, device, clock.")
    space: DesignSpace = Field(default_factory=DesignSpace, description="Where the random configurations come from.")
    reference: GNNConfig = Field(default_factory=GNNConfig, description="Always among the fitted runs.")
    runs: int = Field(8, ge=2, le=200, description="Real runs the model is fitted on.")
    holdout: int = Field(4, ge=0, le=200, description="Further real runs used only to measure prediction error.")
    memory_budget_mb: float | None = Field(None, gt=0, description="Refuse runs predicted above this, in MiB.")
    out_dir: str | None = Field(None, description="Folder for model.json and runs.json.")


class HeldOut(ProfileRecord):
    """A held-out run with the fitted model's prediction."""

    prediction: dict[str, float]


class GNNFitResult(ToolResult):
    """Fitted coefficients, errors on the fitted and on the held-out runs, and the runs."""

    graph: dict[str, object]
    coefficients: dict[str, object]
    features: dict[str, tuple[str, ...]]
    fit_error: dict[str, float]
    heldout_error: dict[str, float]
    fitted: list[ProfileRecord]
    heldout: list[HeldOut]


def run_gnn_fit(args: GNNFitArgs, progress: ProgressFn | None = None) -> GNNFitResult:
    """Profile, fit, and measure the model's error on held-out configurations."""
    from tools.gnn.graphs import load_graph
    from tools.gnn.perfmodel import FEATURES, PerfModel, relative_errors
    from tools.gnn.profiler import Profiler

    with Timer() as timer:
        report(progress, f"loading graph {args.graph}", 0.0)
        graph = load_graph(args.graph, args.num_nodes, args.graph_seed)
        profiler = Profiler(graph, args.train, args.memory_budget_mb)
        pool = [c for c in args.space.configs() if c != args.reference]
        random.Random(args.train.seed).shuffle(pool)
        fitted: list[ProfileRecord] = []
        heldout: list[ProfileRecord] = []
        queue = iter([args.reference, *pool])
        total = args.runs + args.holdout
        while len(fitted) + len(heldout) < total and (cfg := next(queue, None)) is not None:
            done = len(fitted) + len(heldout)
            report(progress, f"run {done + 1}/{total}: {cfg.label()}", 0.05 + 0.9 * done / total)
            record = profiler.run(cfg)
            if record.launched:  # a refused run costs nothing and is replaced by the next candidate
                (fitted if len(fitted) < args.runs else heldout).append(record)
        model = PerfModel.fit(fitted, profiler.workloads)
        preds = model.predict_many([r.config for r in heldout], profiler.workloads)
        out = run_dir(args.out_dir, "gnn_fit")
        model.save(out / "model.json", graph.name, fitted)
        runs_path = out / "runs.json"
        runs_path.write_text(json.dumps({"fitted": [r.model_dump(mode="json") for r in fitted],
                                         "heldout": [r.model_dump(mode="json") for r in heldout]}, indent=1))
        report(progress, "done", 1.0)
    return GNNFitResult(
        seed=args.train.seed, seconds=timer.seconds, versions=package_versions("torch", "scikit-learn", "scipy"),
        artifacts={"model": str(out / "model.json"), "runs": str(runs_path)}, graph=graph.summary(),
        coefficients=model.coef.model_dump(), features=FEATURES,
        fit_error=relative_errors(model, fitted, profiler.workloads),
        heldout_error=relative_errors(model, heldout, profiler.workloads),
        fitted=fitted,
        heldout=[HeldOut(**r.model_dump(), prediction=p.as_dict()) for r, p in zip(heldout, preds)],
    )
