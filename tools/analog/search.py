"""One optimisation run: the shared initial design, then the chosen method's proposals, on one ``Problem``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tools.analog.llana import LLANAPrompts, LLANAProposer, LLMStats, PromptFn, Subspace, ask_constraints
from tools.analog.optim import (
    GPEIProposer,
    Proposer,
    RandomProposer,
    SobolProposer,
    TurboProposer,
    impute_failures,
    quiet_gp,
    sobol_points,
)
from tools.analog.problem import Problem, Trial, objective_text
from tools.common import InputError, ProgressFn, report

__all__ = ("Method", "METHODS", "SearchLog", "run_search")

Method = Literal["gp_ei", "turbo", "sobol", "random", "llana", "llana_constraint"]
METHODS: tuple[str, ...] = ("gp_ei", "turbo", "sobol", "random", "llana", "llana_constraint")


@dataclass
class SearchLog:
    """Everything one run did, in evaluation order."""

    method: str
    seed: int
    trials: list[Trial]
    subspace: Subspace
    notes: list[str] = field(default_factory=list)
    llm: LLMStats = field(default_factory=LLMStats)

    def best_so_far(self) -> list[float | None]:
        """Best score after each evaluation (None until one converged)."""
        out: list[float | None] = []
        best: float | None = None
        for t in self.trials:
            if t.score is not None and (best is None or t.score < best):
                best = t.score
            out.append(best)
        return out

    def best(self) -> Trial | None:
        done = [t for t in self.trials if t.score is not None]
        return min(done, key=lambda t: t.score) if done else None


def _proposer(
    method: str, problem: Problem, dim: int, seed: int, llm: PromptFn | None, prompts: LLANAPrompts | None, llana: dict
) -> Proposer:
    if method == "random":
        return RandomProposer(seed)
    if method == "sobol":
        return SobolProposer(dim, seed)
    if method in ("gp_ei", "llana_constraint"):
        return GPEIProposer(seed)
    if method == "turbo":
        return TurboProposer(dim, seed)
    return LLANAProposer(problem.space, problem.circuit.description, problem.objective, llm, seed, prompts,
                         objective_text=objective_text(problem.objective, problem.bases), **llana)


def run_search(
    problem: Problem,
    method: str,
    budget: int,
    n_init: int,
    seed: int,
    llm: PromptFn | None = None,
    progress: ProgressFn | None = None,
    llana: dict | None = None,
    prompts: LLANAPrompts | None = None,
) -> SearchLog:
    """Evaluate ``budget`` points: ``n_init`` shared Sobol points, then ``method``'s proposals.

    Args:
        llm: the LLM for ``llana`` / ``llana_constraint``; without one they fall back to the GP (noted).
        llana: options of ``LLANAProposer`` (alpha, n_candidates, n_samples, max_examples).
        prompts: LLANA's prompt templates; required with ``llm``.
    """
    if method not in METHODS:
        raise InputError("method", method, METHODS)
    if not 1 <= n_init <= budget:
        raise InputError("n_init", n_init, f"between 1 and the budget ({budget})")
    notes: list[str] = []
    stats = LLMStats()
    sub = Subspace.full(problem.space)
    if method == "llana_constraint":
        sub, notes, stats = ask_constraints(llm, problem.space, problem.circuit.description, problem.objective, prompts,
                                            objective_text(problem.objective, problem.bases))
    proposer = _proposer(method, problem, sub.dim, seed, llm, prompts, llana or {})
    if method == "llana":
        stats = proposer.stats  # type: ignore[union-attr]
        if llm is None:
            notes.append(
                "no LLM configured: LLANA ran on its GP fallback (candidates from Thompson samples of a GP fit, "
                "GP mean/std for EI)"
            )
    init = sobol_points(sub.dim, n_init, seed)
    zs: list[np.ndarray] = []
    trials: list[Trial] = []
    for t in range(budget):
        if t < n_init:
            z, source = init[t], "init"
        else:
            with quiet_gp():
                z, source = proposer.next(np.array(zs), impute_failures([tr.score for tr in trials]))
        trial = problem(sub.to_unit(z, problem.space), source)
        zs.append(sub.from_unit(trial.unit, problem.space))
        trials.append(trial)
        best = min((tr.score for tr in trials if tr.score is not None), default=None)
        shown = "none yet" if best is None else f"{best:.4f}"
        report(progress, f"{method}: evaluation {t + 1}/{budget}, best score {shown}", (t + 1) / budget)
    notes += getattr(proposer, "notes", [])
    return SearchLog(method, seed, trials, sub, notes, stats)
