"""Tool: optimise the layout knobs (critical-net weights) of an OTA against post-layout CMRR and/or offset.

Methods: ``gp_ei`` (botorch GP + log EI), ``turbo`` (TuRBO-1), ``sobol``, ``random``, ``llana`` (LLM proposals
and LLM surrogate feeding EI) and ``llana_constraint`` (the LLM narrows and ties the knob ranges, then GP-EI).
The LLM reaches the tool as a plain ``PromptFn`` (prompt in, text out) with its templates as ``LLANAPrompts``;
without one the LLANA methods run their GP fallbacks and the result says so in ``notes``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import Field, model_validator

from tools.analog.circuits import load_circuit
from tools.analog.common_args import LayoutArgs, SimulatorArgs, layout_options, library_of
from tools.analog.layout import build_cells
from tools.analog.llana import LLANAPrompts, PromptFn
from tools.analog.place_tool import write_layout_artifacts
from tools.analog.placer import place
from tools.analog.problem import Objective, Problem, net_weights
from tools.analog.routing import route
from tools.analog.search import Method, SearchLog, run_search
from tools.analog.spice import Performance
from tools.analog.tech import GF180
from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir

__all__ = ("AnalogOptimizeArgs", "AnalogOptimizeResult", "run_analog_optimize", "log_to_json")


class AnalogOptimizeArgs(LayoutArgs, SimulatorArgs):
    """Arguments of ``run_analog_optimize``."""

    objective: Objective = Field(
        default="cmrr",
        description="What to minimise: LLANA's CMRR score -(CMRR-80dB)/80dB, offset score (|Vos|-1mV)/1mV, or both summed.",
    )
    method: Method = Field(default="gp_ei", description="Optimiser.")
    budget: int = Field(default=25, ge=2, le=500, description="Evaluations in total, initial design included.")
    n_init: int = Field(default=5, ge=1, le=100, description="Shared Sobol initial points (LLANA used 5).")
    seed: int = Field(default=0, ge=0, description="Seed of the initial design and of the optimiser.")
    weight_min: float = Field(default=0.0, ge=0.0, description="Lower bound of every net weight.")
    weight_max: float = Field(default=5.0, gt=0.0, le=100.0, description="Upper bound of every net weight.")
    llana_alpha: float = Field(default=0.1, ge=-1.0, le=1.0, description="LLANA target: best - alpha * (max - min).")
    llana_candidates: int = Field(default=10, ge=1, le=20, description="LLM candidate proposals per iteration (LLANA: 10).")
    llana_samples: int = Field(default=10, ge=1, le=10, description="LLM score predictions per candidate for EI's mean/std (LLANA: 10).")
    out_dir: str | None = Field(default=None, description="Folder for history.json, convergence.png, the best layout.")

    @model_validator(mode="after")
    def _consistent(self) -> AnalogOptimizeArgs:
        if self.n_init > self.budget:
            raise InputError("n_init", self.n_init, f"at most the budget ({self.budget})")
        if self.weight_max <= self.weight_min:
            raise InputError("weight_max", self.weight_max, f"greater than weight_min ({self.weight_min})")
        return self


class AnalogOptimizeResult(ToolResult):
    circuit: str
    objective: str
    method: str
    evaluations: int
    failed: int = Field(description="Evaluations whose simulation did not converge (no score).")
    best_score: float | None
    best_knobs: dict[str, float] = Field(description="Net weight per knob of the best layout.")
    best_performance: Performance | None
    initial_best: float | None = Field(description="Best score of the shared initial design.")
    best_so_far: list[float | None] = Field(description="Best score after each evaluation.")
    eval_seconds: float = Field(description="Mean wall time of one placement + extraction + ngspice run. In s.")
    llm: dict[str, float] = Field(default_factory=dict, description="LLM calls, parse failures, GP fallbacks.")
    search_box: dict[str, list[float]] = Field(default_factory=dict, description="Knob ranges searched (narrowed by llana_constraint).")
    ties: list[list[str]] = Field(default_factory=list, description="Knobs forced to share a value (llana_constraint).")
    notes: list[str] = Field(default_factory=list)


def log_to_json(log: SearchLog, problem: Problem) -> dict:
    """The full history of a run (every evaluation's knobs, metrics, score and source)."""
    return {
        "method": log.method,
        "seed": log.seed,
        "knobs": list(problem.space.names),
        "notes": log.notes,
        "llm": {**log.llm.totals(), "records": [vars(r) for r in log.llm.records]},
        "trials": [
            {
                "values": [float(v) for v in t.values],
                "score": t.score,
                "converged": t.converged,
                "source": t.source,
                "area_um2": t.area_um2,
                "seconds": round(t.seconds, 4),
                **t.performance.model_dump(),
            }
            for t in log.trials
        ],
    }


def _plot(log: SearchLog, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    best = [np.nan if b is None else b for b in log.best_so_far()]
    scores = [np.nan if t.score is None else t.score for t in log.trials]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    steps = np.arange(1, len(best) + 1)
    ax.plot(steps, scores, "o", ms=3, alpha=0.5, label="evaluation")
    ax.step(steps, best, where="post", label="best so far")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("LLANA score (lower is better)")
    ax.set_title(title, fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_analog_optimize(
    args: AnalogOptimizeArgs,
    progress: ProgressFn | None = None,
    llm: PromptFn | None = None,
    prompts: LLANAPrompts | None = None,
) -> AnalogOptimizeResult:
    """Optimise the knobs; write history.json, convergence.png and the best layout (GDS, PNG, JSON)."""
    circuit = load_circuit(args.circuit)
    folder = run_dir(args.out_dir, "analog-optimize")
    problem = Problem.build(
        circuit, args.objective, layout_options(args), GF180, library_of(args), folder / "evals",
        bounds=(args.weight_min, args.weight_max), ngspice=args.ngspice,
    )
    llana = {"alpha": args.llana_alpha, "n_candidates": args.llana_candidates, "n_samples": args.llana_samples}
    with Timer() as timer:
        log = run_search(problem, args.method, args.budget, args.n_init, args.seed, llm, progress, llana, prompts)
    report(progress, "writing the best layout", 1.0)
    history = folder / "history.json"
    history.write_text(json.dumps(log_to_json(log, problem), indent=1))
    artifacts = {"history": str(history), "convergence": str(_plot(log, folder / "convergence.png", f"{circuit.name}: {args.method}, {args.objective}"))}
    best = log.best()
    knobs = dict(zip(problem.space.names, [float(v) for v in best.values])) if best else {}
    if best is not None:
        options = layout_options(args)
        weights = net_weights(circuit, knobs)
        cells = build_cells(circuit, GF180, options.symmetric, options.common_centroid)
        placement = place(circuit, cells, weights, area_weight=options.area_weight, seed=options.placement_seed)
        meta = {"circuit": circuit.name, "options": args.model_dump(include=set(LayoutArgs.model_fields) - {"circuit"}), "net_weights": knobs}
        artifacts |= write_layout_artifacts(
            circuit, placement, route(placement), folder, GF180, f"{circuit.name}: best of {args.method} (score {best.score:.4f})", meta
        )
    init = [t.score for t in log.trials[: args.n_init] if t.score is not None]
    stats = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in log.llm.totals().items()}
    sub = log.subspace
    groups: dict[int, list[str]] = {}
    for name, g in zip(problem.space.names, sub.group):
        groups.setdefault(g, []).append(name)
    return AnalogOptimizeResult(
        circuit=circuit.name,
        objective=args.objective,
        method=args.method,
        evaluations=len(log.trials),
        failed=sum(1 for t in log.trials if not t.converged),
        best_score=best.score if best else None,
        best_knobs=knobs,
        best_performance=best.performance if best else None,
        initial_best=min(init) if init else None,
        best_so_far=log.best_so_far(),
        eval_seconds=round(float(np.mean([t.seconds for t in log.trials if t.seconds > 0] or [0.0])), 4),
        llm=stats if args.method.startswith("llana") else {},
        search_box={n: [round(lo, 6), round(hi, 6)] for n, lo, hi in zip(problem.space.names, sub.low, sub.high)},
        ties=[names for names in groups.values() if len(names) > 1],
        notes=log.notes,
        seed=args.seed,
        seconds=round(timer.seconds, 3),
        versions=package_versions("numpy", "torch", "botorch", "gpytorch", "gdstk"),
        artifacts=artifacts,
    )
