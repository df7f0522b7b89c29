"""Profile one GNN training configuration: predict first, refuse what cannot fit, else train and measure.

The tool behind "profile GraphSAGE on the digits graph with fan-out 10/5": the configuration's workload is
sampled (``tools.gnn.workload``), its peak memory predicted (``tools.gnn.perfmodel``: a fitted model if
``model_path`` names one, else the analytic prior), and a configuration predicted above the memory budget is
reported as such and never launched. Otherwise it is trained for real (``tools.gnn.train``) and the
predicted and measured numbers are returned side by side.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.gnn.config import GNNConfig
from tools.gnn.graphs import GraphData, load_graph
from tools.gnn.perfmodel import PerfModel
from tools.gnn.train import MIB, ProfileRecord, TrainSettings, resolve_device, train_and_measure
from tools.gnn.workload import WorkloadCache

__all__ = ("GNNProfileArgs", "GNNProfileResult", "run_gnn_profile", "Profiler", "available_memory_mb", "GraphArgs")


class GraphArgs(BaseModel):
    """Which graph: a built-in name or a folder of the user's files, and the size of a synthetic one."""

    model_config = ConfigDict(extra="forbid")

    graph: str = Field("digits", description="digits, karate, sbm, powerlaw, or a folder with edges + features.npy "
                                             "+ labels.npy.")
    num_nodes: int | None = Field(None, ge=100, le=2_000_000, description="Nodes of a synthetic graph (sbm/powerlaw).")
    graph_seed: int = Field(0, ge=0, description="Seeds synthetic generation and the node splits.")


def available_memory_mb(device: torch.device) -> float:
    """Memory a run may use: free GPU memory on CUDA, else the kernel's MemAvailable (Linux) or free pages."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0] / MIB
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / MIB


class Profiler:
    """Profiles configurations of one graph under one memory budget, predicting before launching."""

    def __init__(self, graph: GraphData, settings: TrainSettings, memory_budget_mb: float | None = None):
        self.graph = graph
        self.settings = settings
        self.workloads = WorkloadCache(graph, settings.seed)
        self.budget_mb = memory_budget_mb or available_memory_mb(resolve_device(settings.device))

    def run(self, cfg: GNNConfig, model: PerfModel | None = None) -> ProfileRecord:
        """Predict ``cfg``; train and measure it unless its predicted peak memory exceeds the budget."""
        pred = (model or PerfModel.prior()).predict(cfg, self.workloads)
        predicted = pred.as_dict() if model is not None and model.coef.fitted_on else {"peak_mb": pred.peak_mb}
        if pred.peak_mb > self.budget_mb:
            return ProfileRecord(
                config=cfg, graph=self.graph.name, device=str(resolve_device(self.settings.device)), launched=False,
                reason=f"predicted peak memory {pred.peak_mb:,.1f} MiB exceeds the budget of {self.budget_mb:,.1f} MiB",
                predicted=predicted,
            )
        record = train_and_measure(self.graph, cfg, self.settings)
        return record.model_copy(update={"predicted": predicted})


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
