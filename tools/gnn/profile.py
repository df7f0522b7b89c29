"""Profile one GNN training configuration: predict first, refuse what cannot fit, else train and measure.

The tool behind "profile GraphSAGE on the digits graph with fan-out 10/5": one configuration goes through the
``tools.gnn.profiler.Profiler`` (workload sampled, peak memory predicted by a fitted model if ``model_path``
names one, else by the analytic prior; refused above the memory budget, else trained for real), and the
predicted and measured numbers are returned side by side.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.gnn.config import GNNConfig
from tools.gnn.runs import GraphArgs, ProfileRecord, TrainSettings

__all__ = ("GNNProfileArgs", "GNNProfileResult", "run_gnn_profile")


class GNNProfileArgs(GraphArgs):
    """One configuration to profile, how to train it, and the memory budget."""

    config: GNNConfig = Field(default_factory=GNNConfig, description="The training configuration.")
    train: TrainSettings = Field(default_factory=TrainSettings, description="Epochs, seed, device, clock.")
    memory_budget_mb: float | None = Field(
        None, gt=0, description="Refuse configurations predicted above this peak, in MiB; default: available memory."
    )
    model_path: str | None = Field(None, description="A model JSON from gnn_fit / gnn_explore to predict with.")
    out_dir: str | None = Field(None, description="Folder for record.json; default: a fresh run folder.")


class GNNProfileResult(ToolResult):
    """The measured (or refused) run, with what was predicted before it."""

    graph: dict[str, object]
    record: ProfileRecord
    memory_budget_mb: float


def run_gnn_profile(args: GNNProfileArgs, progress: ProgressFn | None = None) -> GNNProfileResult:
    """Profile ``args.config`` on ``args.graph`` (see the module docstring)."""
    from tools.gnn.graphs import load_graph
    from tools.gnn.perfmodel import PerfModel
    from tools.gnn.profiler import Profiler

    with Timer() as timer:
        report(progress, f"loading graph {args.graph}", 0.0)
        graph = load_graph(args.graph, args.num_nodes, args.graph_seed)
        profiler = Profiler(graph, args.train, args.memory_budget_mb)
        model = PerfModel.load(Path(args.model_path), profiler.workloads) if args.model_path else None
        report(progress, f"profiling {args.config.label()}", 0.1)
        record = profiler.run(args.config, model)
        out = run_dir(args.out_dir, "gnn_profile")
        path = out / "record.json"
        path.write_text(json.dumps(record.model_dump(mode="json"), indent=1))
        report(progress, "done", 1.0)
    return GNNProfileResult(
        seed=args.train.seed, seconds=timer.seconds, versions=package_versions("torch", "scikit-learn", "scipy"),
        artifacts={"record": str(path)}, graph=graph.summary(), record=record, memory_budget_mb=profiler.budget_mb,
    )
