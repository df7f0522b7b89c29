"""The recipe search as a gymnasium environment: an action sets the recipe, a solver run is one step.

An episode is one clip and a budget of solver runs. ``reset`` runs the default recipe (run 1 of the budget);
each ``step`` moves the recipe from the incumbent, runs mbopc on the clip, scores it and rewards the drop
in J relative to the incumbent, in units of the clip's default J (clips differ 10x in size):

    reward = (J_incumbent - J_eff) / J_default,   J_eff = J             if the run is no worse than the
                                                                         default in L2, EPE and PV band,
                                                   max(J, J_inc) + excess otherwise (excess: the sum of the
                                                                         metrics' increases, in J's units)

so only runs that keep every metric at or below the default's can become the incumbent (the issue's "no
metric worse than the default" condition) and a run that worsens one is penalised by how much.

Observation: the clip's context (:func:`clip_context`: the share of segments per recipe class, mean width and
space, size and the default run's L2/PVB/EPE shares of J), the incumbent's coordinates, the incumbent's
J / J_default and the budget left. Action: a vector in [-1, 1]^24 added to the incumbent's coordinates
(``tools.opc.recipe.SPACE``), clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tools.common import InputError
from tools.opc.recipe import RECIPE_CLASSES, SPACE, W_EPE, ClipProblem, Recipe, RunMetrics, decode, encode, recipe_class

__all__ = ("CONTEXT_NAMES", "clip_context", "excess", "feasible", "make_env", "Episode")

CONTEXT_NAMES: tuple[str, ...] = (
    *(f"share_{name}" for name in RECIPE_CLASSES),
    "mean_width",
    "mean_space",
    "segments",
    "l2_share",
    "pvb_share",
    "epe_share",
)
"""Columns of :func:`clip_context`."""

Evaluate = Callable[[Recipe], RunMetrics]


def clip_context(problem: ClipProblem, default: RunMetrics) -> np.ndarray:
    """(len(CONTEXT_NAMES),) float64 context of a clip: its topology at 60 nm fragments and its default run."""
    _, topo = problem.model(Recipe().segment_length_nm)
    cls = recipe_class(topo)
    share = np.bincount(cls, minlength=len(RECIPE_CLASSES)) / max(len(cls), 1)
    c = topo.config
    j = max(default.cost, 1.0)
    tail = [
        float(np.mean(topo.width_nm)) / c.width_cap_nm,
        float(np.mean(topo.space_nm)) / c.space_cap_nm,
        min(len(cls) / 200.0, 2.0),
        default.l2 / j,
        default.pvb / j,
        W_EPE * default.epe / j,
    ]
    return np.concatenate([share, tail])


def excess(run: RunMetrics, default: RunMetrics) -> float:
    """How much worse than the default a run is in L2, EPE and PV band together, in J's units (nm^2); a new
    mask-rule violation or a printing assist bar counts as one EPE violation each."""
    rules = max(run.mrc - default.mrc, 0) + (run.sraf_print > 0)
    return max(run.l2 - default.l2, 0) + W_EPE * (max(run.epe - default.epe, 0) + rules) + max(run.pvb - default.pvb, 0)


def feasible(run: RunMetrics, default: RunMetrics) -> bool:
    """No worse than the default in any of L2, EPE, PV band and mask rules, and no assist bar printing."""
    return excess(run, default) == 0


class Episode:
    """The search state on one clip: default run, incumbent, runs made. Shared by the env and the searchers."""

    def __init__(self, problem: ClipProblem, evaluate: Evaluate, budget: int):
        if budget < 1:
            raise InputError("budget", budget, "at least 1 solver run (the default recipe)")
        self.problem = problem
        self.evaluate = evaluate
        self.budget = budget
        self.default = evaluate(Recipe())
        self.context = clip_context(problem, self.default)
        self.best_u = encode(Recipe())
        self.best = self.default
        self.runs: list[tuple[Recipe, RunMetrics]] = [(Recipe(), self.default)]

    @property
    def left(self) -> int:
        return self.budget - len(self.runs)

    def try_point(self, u: np.ndarray) -> float:
        """Run the recipe at coordinates ``u``; update the incumbent; return the reward (module docstring)."""
        if self.left <= 0:
            raise InputError("budget", self.budget, "more solver runs than this episode has made")
        u = np.clip(u, 0.0, 1.0)
        recipe = decode(u)
        run = self.evaluate(recipe)
        self.runs.append((recipe, run))
        over = excess(run, self.default)
        j_eff = run.cost if over == 0 else max(run.cost, self.best.cost) + over
        reward = (self.best.cost - j_eff) / max(self.default.cost, 1.0)
        if over == 0 and run.cost < self.best.cost:
            self.best, self.best_u = run, encode(recipe)
        return float(np.clip(reward, -1.0, 1.0))

    def observation(self) -> np.ndarray:
        ratio = self.best.cost / max(self.default.cost, 1.0)
        return np.concatenate([self.context, self.best_u, [ratio, self.left / self.budget]]).astype(np.float32)


def make_env(episodes: Callable[[int], Episode]) -> Any:
    """A gymnasium env whose ``reset`` opens ``episodes(k)`` for the k-th episode (k = 0, 1, ...)."""
    import gymnasium as gym

    dim = len(SPACE)
    obs_dim = len(CONTEXT_NAMES) + dim + 2

    class RecipeSearchEnv(gym.Env):
        """Recipe search on a sequence of clips (module docstring of ``tools.opc.recipe_env``)."""

        metadata: dict[str, Any] = {"render_modes": []}

        def __init__(self) -> None:
            self.observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
            self.action_space = gym.spaces.Box(-1.0, 1.0, (dim,), np.float32)
            self.count = 0
            self.episode: Episode | None = None

        def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
            super().reset(seed=seed)
            self.episode = episodes(self.count)
            self.count += 1
            return self.episode.observation(), {"clip": self.episode.problem.name}

        def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
            ep = self.episode
            if ep is None:
                raise InputError("env", "step before reset", "reset() first")
            reward = ep.try_point(ep.best_u + np.asarray(action, dtype=np.float64))
            done = ep.left <= 0
            info = {"clip": ep.problem.name, "best_ratio": ep.best.cost / max(ep.default.cost, 1.0)}
            return ep.observation(), reward, done, False, info

    return RecipeSearchEnv()
