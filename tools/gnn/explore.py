"""Design-space exploration of GNN training configurations, guided by the gray-box model (GNNavigator).

GNNavigator (Qiu et al., DAC 2024, arXiv 2404.09544) profiles a few configurations, fits its performance
model, and lets the model choose what to run next until it settles on the configuration that best meets the
application's priority. Ours:

1. run the reference configuration (default: GraphSAGE, fan-out 25/10, batch 1024, hidden 256, no cache):
   its measured accuracy, time and memory anchor the priority (``tools.gnn.pareto.Goal``);
2. run ``init_runs - 1`` neighbours of the reference, each changing one knob group (sampling, batch size, width
   first, then cache and overlap), drawn at random;
3. until ``runs`` real runs: refit the model on every run so far, predict every candidate of the design space,
   and run the one with the largest constrained expected improvement (predicted gain over the best run so
   far times the probability that its accuracy is within the tolerance) among those predicted to fit the
   budgets; stop early when no candidate is predicted to gain ``MIN_GAIN`` (converged). Each run is thus also
   a held-out test of the model that picked it;
4. choose, among the runs, the best measured one that meets the priority.

Random search (the reference, then random configurations) at the same number of real runs is the baseline.
A configuration predicted above the memory budget is never launched (it costs no run).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.gnn.config import DesignSpace, GNNConfig
from tools.gnn.pareto import Goal, PlotPoint, Priority, pareto_mask, plot_pareto
from tools.gnn.runs import GraphArgs, ProfileRecord, TrainSettings

if TYPE_CHECKING:
    from tools.gnn.perfmodel import PerfModel, Prediction
    from tools.gnn.profiler import Profiler

__all__ = ("GNNExploreArgs", "GNNExploreResult", "SearchRun", "run_gnn_explore", "REACH_MARGIN")

MIN_GAIN = 0.03
"""A candidate is worth a real run only if predicted at least 3 % better than the best run so far."""
MIN_FEASIBILITY = 0.05
"""...and only if its accuracy has at least a 5 % chance of being within the tolerance."""
REACH_MARGIN = 0.05
"""A search has "found" the best configuration once its best score is within 5 % of the best any search found."""


class GNNExploreArgs(GraphArgs):
    """What to explore, for which priority, with how many real runs."""

    train: TrainSettings = Field(default_factory=TrainSettings, description="Epochs, seed, device, clock.")
    space: DesignSpace = Field(default_factory=DesignSpace, description="The knob values to search.")
    reference: GNNConfig = Field(default_factory=GNNConfig, description="The hand-picked configuration to beat.")
    priority: Priority = Field("fastest", description="fastest, least_memory or balanced (see gnn_pareto).")
    accuracy_tolerance: float = Field(0.01, ge=0.0, le=1.0, description="Allowed validation-accuracy loss (absolute).")
    time_budget_s: float | None = Field(None, gt=0, description="Epoch-time limit in seconds (least_memory: "
                                                                "default the reference's).")
    memory_budget_mb: float | None = Field(None, gt=0, description="Peak-memory limit in MiB; default: available.")
    runs: int = Field(12, ge=2, le=200, description="Real training runs per search, the reference included.")
    init_runs: int = Field(4, ge=1, le=50, description="Runs before the model starts choosing (reference included).")
    strategy: Literal["model", "random"] = Field("model", description="Model-guided search or random search.")
    compare_random: bool = Field(False, description="Also run random search with the same number of runs.")
    random_repeats: int = Field(1, ge=1, le=10, description="Random searches (different seeds) to average.")
    plot: bool = Field(True, description="Write the Pareto plot (PNG).")
    out_dir: str | None = Field(None, description="Folder for runs.json, model.json, pareto.png.")


class SearchRun(BaseModel):
    """One search: its runs in order, the chosen one, and its best feasible score after each real run."""

    strategy: Literal["model", "random"]
    seed: int
    records: list[ProfileRecord]
    chosen: int = Field(description="Index in records of the chosen run.")
    trace: list[float] = Field(description="Best feasible measured score after 1, 2, ... real runs.")
    runs_to_reach: int | None = Field(None, description="Real runs until within REACH_MARGIN of the best found.")

    @property
    def launched(self) -> int:
        return sum(r.launched for r in self.records)


class GNNExploreResult(ToolResult):
    """The chosen configuration against the reference, the searches, and how well the model predicted."""

    graph: dict[str, object]
    priority: str
    accuracy_tolerance: float
    candidates: int = Field(description="Configurations in the design space.")
    reference: ProfileRecord
    chosen: ProfileRecord
    chosen_predicted: dict[str, float] = Field(description="The final model's prediction for the chosen run.")
    speedup: float = Field(description="Reference epoch time / chosen epoch time.")
    memory_reduction: float = Field(description="1 - chosen peak memory / reference peak memory.")
    accuracy_delta: float = Field(description="Chosen minus reference validation accuracy.")
    test_accuracy_delta: float
    searches: list[SearchRun]
    refused: list[str] = Field(description="Configurations predicted not to fit in memory (never launched).")
    pareto: list[str] = Field(description="Measured runs on the (time, memory, accuracy) Pareto front.")
    prediction_error: dict[str, float] = Field(
        description="Model-guided runs predicted before they ran (one-step-ahead held-out errors)."
    )
    heldout_error: dict[str, float] = Field(
        default_factory=dict, description="Final model on random-search runs it was not fitted on."
    )
    coefficients: dict[str, object]


class _Runner:
    """Real runs, each configuration at most once per exploration (a repeat returns the same record)."""

    def __init__(self, profiler: Profiler, progress: Callable[[str], None]):
        self.profiler, self.progress, self.done = profiler, progress, {}

    def __call__(self, cfg: GNNConfig, model: PerfModel | None) -> ProfileRecord:
        if cfg not in self.done:
            self.progress(cfg.label())
            self.done[cfg] = self.profiler.run(cfg, model)
        return self.done[cfg]


def _goal(args: GNNExploreArgs, ref: ProfileRecord, budget_mb: float) -> Goal:
    if not ref.launched or ref.epoch_s is None or ref.val_acc is None or ref.peak_mb is None:
        raise InputError("reference", ref.config.label(), f"a configuration that runs ({ref.reason})")
    return Goal(args.priority, ref.epoch_s, ref.peak_mb, ref.val_acc, args.accuracy_tolerance, args.time_budget_s,
                budget_mb)


def _measured_score(goal: Goal, r: ProfileRecord) -> float | None:
    """Score of a real run, or None when it misses the accuracy tolerance or a budget."""
    if not r.launched or r.epoch_s is None or r.peak_mb is None or r.val_acc is None:
        return None
    return goal.score(r.epoch_s, r.peak_mb) if goal.feasible(r.epoch_s, r.peak_mb, r.val_acc) else None


def _finish(strategy: str, seed: int, records: list[ProfileRecord], goal: Goal) -> SearchRun:
    trace, best, chosen = [], math.inf, 0
    for i, r in enumerate(records):
        score = _measured_score(goal, r)
        if score is not None and score < best:
            best, chosen = score, i
        if r.launched:
            trace.append(best)
    return SearchRun(strategy=strategy, seed=seed, records=records, chosen=chosen, trace=trace)


_KNOB_GROUPS = {
    "sampling": ("sampler", "layers", "fanouts"),
    "batch": ("batch_size",),
    "width": ("hidden",),
    "cache": ("cache_policy", "cache_ratio"),
    "overlap": ("overlap",),
}
"""Knobs that move together; the first three change the trained model, the last two only its cost."""


def _neighbours(ref: GNNConfig, cands: list[GNNConfig], count: int, rng: random.Random,
                skip: set[GNNConfig]) -> list[GNNConfig]:
    """``count`` candidates that differ from ``ref`` in one knob group each, the model-changing groups first
    (a local design: the configurations worth finding lie within the accuracy tolerance of the reference)."""
    by_group: dict[str, list[GNNConfig]] = {g: [] for g in _KNOB_GROUPS}
    for c in cands:
        if c in skip:
            continue
        changed = [g for g, knobs in _KNOB_GROUPS.items() if any(getattr(c, k) != getattr(ref, k) for k in knobs)]
        if len(changed) == 1:
            by_group[changed[0]].append(c)
    model_groups, cost_groups = ["sampling", "batch", "width"], ["cache", "overlap"]
    rng.shuffle(model_groups)
    rng.shuffle(cost_groups)
    out: list[GNNConfig] = []
    for group in (model_groups + cost_groups) * count:
        if len(out) == count:
            break
        pool = [c for c in by_group[group] if c not in out]
        if pool:
            out.append(rng.choice(pool))
    return out


def _acquire(preds: list[Prediction], cands: list[GNNConfig], goal: Goal, tried: set[GNNConfig],
             incumbent: float) -> int | None:
    """The untried candidate with the largest expected improvement over the best run so far.

    Constrained expected improvement (Gardner et al., ICML 2014) with a deterministic cost model: the
    predicted relative improvement of the score times the probability, under the accuracy Gaussian process,
    that the candidate's accuracy is within the tolerance. Only candidates predicted to fit the budgets and to
    beat the incumbent by ``MIN_GAIN`` count, and a candidate needs at least ``MIN_FEASIBILITY``; None when
    there is none (the search has converged).
    """
    needed = math.log1p(MIN_GAIN) if goal.priority == "balanced" else MIN_GAIN
    threshold = goal.ref_acc - goal.tolerance
    best, pick = 0.0, None
    for i, (c, p) in enumerate(zip(cands, preds)):
        if c in tried or not goal.feasible(p.epoch_s, p.peak_mb, math.inf):  # budgets only
            continue
        score = goal.score(p.epoch_s, p.peak_mb)
        gain = incumbent - score if goal.priority == "balanced" else (incumbent - score) / score
        if gain < needed:
            continue
        if p.acc_std > 0:
            feasible = 0.5 * math.erfc((threshold - p.val_acc) / (p.acc_std * math.sqrt(2.0)))
        else:
            feasible = float(p.val_acc >= threshold - 1e-12)
        if feasible >= MIN_FEASIBILITY and gain * feasible > best:
            best, pick = gain * feasible, i
    return pick


def _model_search(run: _Runner, cands: list[GNNConfig], args: GNNExploreArgs, budget_mb: float,
                  rng: random.Random) -> tuple[SearchRun, PerfModel]:
    from tools.gnn.perfmodel import PerfModel

    wl = run.profiler.workloads
    records = [run(args.reference, None)]
    goal = _goal(args, records[0], budget_mb)
    tried = {args.reference}
    for cfg in _neighbours(args.reference, cands, args.init_runs - 1, rng, tried):
        tried.add(cfg)
        records.append(run(cfg, None))
    while sum(r.launched for r in records) < args.runs:
        model = PerfModel.fit(records, wl)
        incumbent = min((s for r in records if (s := _measured_score(goal, r)) is not None), default=math.inf)
        pick = _acquire(model.predict_many(cands, wl), cands, goal, tried, incumbent)
        if pick is None:  # no candidate is predicted to beat the best run: the search has converged
            break
        tried.add(cands[pick])
        records.append(run(cands[pick], model))
    return _finish("model", args.train.seed, records, goal), PerfModel.fit(records, wl)


def _random_search(run: _Runner, cands: list[GNNConfig], args: GNNExploreArgs, budget_mb: float,
                   seed: int) -> SearchRun:
    records = [run(args.reference, None)]
    goal = _goal(args, records[0], budget_mb)
    pool = [c for c in cands if c != args.reference]
    random.Random(seed).shuffle(pool)
    for cfg in pool:
        if sum(r.launched for r in records) >= args.runs:
            break
        records.append(run(cfg, None))
    return _finish("random", seed, records, goal)


def _reach(searches: list[SearchRun], priority: str) -> None:
    """Fill ``runs_to_reach``: runs until a search's best score is within the margin of the overall best."""
    best = min(s.trace[-1] for s in searches)
    limit = best + math.log1p(REACH_MARGIN) if priority == "balanced" else best * (1 + REACH_MARGIN)
    for s in searches:
        s.runs_to_reach = next((k + 1 for k, score in enumerate(s.trace) if score <= limit), None)


def _ahead_errors(records: list[ProfileRecord]) -> dict[str, float]:
    """Relative errors of the predictions made before each run (runs the model chose)."""
    pairs = [(r.predicted, r) for r in records if r.launched and "epoch_s" in r.predicted]
    if not pairs:
        return {}
    t = [abs(p["epoch_s"] - r.epoch_s) / r.epoch_s for p, r in pairs]
    m = [abs(p["peak_mb"] - r.peak_mb) / r.peak_mb for p, r in pairs if r.peak_mb]
    return {"runs": float(len(pairs)), "time_median_rel_error": float(np.median(t)),
            "memory_median_rel_error": float(np.median(m)) if m else float("nan")}


def run_gnn_explore(args: GNNExploreArgs, progress: ProgressFn | None = None) -> GNNExploreResult:
    """Explore ``args.space`` on ``args.graph`` for ``args.priority`` (see the module docstring)."""
    from tools.gnn.graphs import load_graph
    from tools.gnn.perfmodel import PerfModel
    from tools.gnn.profiler import Profiler

    with Timer() as timer:
        report(progress, f"loading graph {args.graph}", 0.0)
        graph = load_graph(args.graph, args.num_nodes, args.graph_seed)
        profiler = Profiler(graph, args.train, args.memory_budget_mb)
        cands = args.space.configs()
        if args.reference.model != args.space.model:
            raise InputError("reference.model", args.reference.model, f"the design space's model {args.space.model!r}")
        searches_total = (args.strategy == "model" or args.compare_random) + (
            args.random_repeats if args.strategy == "random" or args.compare_random else 0)
        expected = max(1, searches_total * args.runs)
        run = _Runner(profiler, lambda label: report(
            progress, f"run {len(run.done) + 1}: {label}", min(0.95, 0.05 + 0.9 * len(run.done) / expected)))
        searches: list[SearchRun] = []
        model = None
        if args.strategy == "model":
            guided, model = _model_search(run, cands, args, profiler.budget_mb, random.Random(args.train.seed))
            searches.append(guided)
        if args.strategy == "random" or args.compare_random:
            for rep in range(args.random_repeats):
                seed = args.train.seed + 1000 * (rep + 1)
                searches.append(_random_search(run, cands, args, profiler.budget_mb, seed))
        main = searches[0]
        if model is None:
            model = PerfModel.fit(main.records, profiler.workloads)
        _reach(searches, args.priority)
        result = _assemble(args, graph.summary(), cands, searches, model, profiler, timer)
    result.seconds = timer.seconds
    report(progress, "done", 1.0)
    return result


def _assemble(args: GNNExploreArgs, graph: dict[str, object], cands: list[GNNConfig], searches: list[SearchRun],
              model: PerfModel, profiler: Profiler, timer: Timer) -> GNNExploreResult:
    from tools.gnn.perfmodel import relative_errors

    main = searches[0]
    ref, chosen = main.records[0], main.records[main.chosen]
    wl = profiler.workloads
    everything = {r.config: r for s in searches for r in s.records}
    launched = [r for r in everything.values() if r.launched]
    costs = np.array([[r.epoch_s, r.peak_mb, -(r.val_acc or 0.0)] for r in launched])
    pareto = [r.config.label() for r, keep in zip(launched, pareto_mask(costs)) if keep]
    fitted = {r.config for r in main.records}
    heldout = [r for s in searches[1:] for r in s.records if r.config not in fitted]
    out = run_dir(args.out_dir, "gnn_explore")
    artifacts = {"runs": str(out / "runs.json"), "model": str(out / "model.json")}
    (out / "runs.json").write_text(json.dumps([s.model_dump(mode="json") for s in searches], indent=1))
    model.save(out / "model.json", profiler.graph.name, main.records)
    if args.plot:
        preds = model.predict_many(cands, wl)
        goal = _goal(args, ref, profiler.budget_mb)
        pts = np.array([[p.epoch_s, p.peak_mb] for p in preds])
        ok = np.array([goal.feasible(p.epoch_s, p.peak_mb, p.val_acc) for p in preds])
        measured = [PlotPoint(r.epoch_s, r.peak_mb, r.val_acc, s.strategy) for s in searches for r in s.records
                    if r.launched and r.epoch_s and r.peak_mb and r.val_acc is not None]
        measured += [PlotPoint(ref.epoch_s, ref.peak_mb, ref.val_acc, "reference"),
                     PlotPoint(chosen.epoch_s, chosen.peak_mb, chosen.val_acc, "chosen")]
        plot_pareto(out / "pareto.png", pts, ok, measured,
                    f"{profiler.graph.name}: {args.priority}, accuracy within {args.accuracy_tolerance:.1%} "
                    f"of the reference ({main.launched} runs, {ref.clock} time)")
        artifacts["pareto"] = str(out / "pareto.png")
    return GNNExploreResult(
        seed=args.train.seed, seconds=timer.seconds, versions=package_versions("torch", "scikit-learn", "scipy"),
        artifacts=artifacts, graph=graph, priority=args.priority, accuracy_tolerance=args.accuracy_tolerance,
        candidates=len(cands), reference=ref, chosen=chosen,
        chosen_predicted=model.predict(chosen.config, wl).as_dict(),
        speedup=ref.epoch_s / chosen.epoch_s, memory_reduction=1.0 - chosen.peak_mb / ref.peak_mb,
        accuracy_delta=chosen.val_acc - ref.val_acc, test_accuracy_delta=chosen.test_acc - ref.test_acc,
        searches=searches, refused=sorted({r.config.label() for r in everything.values() if not r.launched}),
        pareto=pareto, prediction_error=_ahead_errors(main.records),
        heldout_error=relative_errors(model, heldout, wl) if heldout else {},
        coefficients=model.coef.model_dump(),
    )
