"""Profile configurations of one graph under one memory budget: predict first, refuse what cannot fit.

Every GNN tool runs configurations through a ``Profiler``: the configuration's workload is sampled
(``tools.gnn.workload``), its peak memory predicted (``tools.gnn.perfmodel``: a fitted model if one is given,
else the analytic prior), and a configuration predicted above the budget is recorded as refused and never
launched; otherwise it is trained for real (``tools.gnn.train``).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from tools.gnn.config import GNNConfig
from tools.gnn.graphs import GraphData
from tools.gnn.perfmodel import PerfModel
from tools.gnn.runs import ProfileRecord, TrainSettings
from tools.gnn.train import MIB, resolve_device, train_and_measure
from tools.gnn.workload import WorkloadCache

__all__ = ("Profiler", "available_memory_mb")


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
