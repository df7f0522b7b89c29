"""The hardware architect: MixPE's mixed-precision GEMM and accelerator model; GNNavigator's GNN training DSE.

One module per method, each with its tools, request parsing and answer templates:

- ``mixpe``: ``mixpe_gemm`` (the functional model of MixPE's mpGEMM against ``torch.matmul``, with operation
  counts of both dequantisation orders) and ``mixpe_perf`` (time and energy of iso-area FP16, INT8, BitFusion,
  ANT and MixPE arrays on transformer workloads);
- ``gnn``: ``gnn_profile`` (train and measure one GNN configuration, refusing what is predicted not to fit),
  ``gnn_fit`` (the gray-box runtime/memory/accuracy model and its held-out error) and ``gnn_explore``
  (GNNavigator's model-guided search for a priority, against the default and random search).

The deterministic planner sends requests about GNN training (GraphSAGE, GCN, fan-outs, neighbour or cluster
sampling, feature caches, the digits/karate/SBM/power-law graphs) to the GNN tools and everything else to MixPE.
"""

from __future__ import annotations

from agents.base import AgentSpec, ToolCall
from agents.parsing import render_by_type

from . import gnn, mixpe

__all__ = ("AGENT", "plan", "render")


def plan(request: str) -> ToolCall:
    """GNN training requests go to ``gnn_explore``/``gnn_fit``/``gnn_profile``; otherwise ``mixpe_gemm`` for
    correctness / op-count questions and shapes, else ``mixpe_perf``."""
    return gnn.plan(request) if gnn.handles(request) else mixpe.plan(request)


render = render_by_type("hardware_architect", {**mixpe.RENDERERS, **gnn.RENDERERS})
"""Markdown answer: the key finding first (one line), then a table and the artefacts."""

AGENT = AgentSpec(
    name="hardware_architect",
    description=(
        "Accelerator architecture for quantised ML: MixPE mixed-precision GEMM checked bit for bit with op "
        "counts, and time/energy of iso-area MixPE, FP16, INT8, BitFusion and ANT arrays on transformer workloads; "
        "GNN training configuration exploration (GNNavigator): profile, fit a performance model, Pareto search."
    ),
    examples=(*mixpe.EXAMPLES, *gnn.EXAMPLES),
    keywords=(*mixpe.KEYWORDS, *gnn.KEYWORDS),
    tools=(*mixpe.TOOLS, *gnn.TOOLS),
    plan=plan,
    render=render,
    prompt="hardware_architect",
)
