"""Recipe search per clip at a fixed budget of solver runs: contextual bandit, PPO, random search.

All three act through :class:`tools.opc.recipe_env.Episode` (the state behind the gymnasium env), log every
run to the clip's JSONL (``tools.opc.recipe_runs``) and count the default recipe as run 1 of the budget.

* ``bandit`` (the default): a contextual bandit over recipes. Context = the clip's topology and default run
  (``clip_context``); the first arms pulled are the best recipes of the nearest clips searched before (a
  nearest-neighbour prior over contexts, so knowledge transfers between clips), then the resolution-enhancement
  starters (``STARTERS``: assist bars, process-window feedback and corner serifs switched on over the incumbent, since a
  small local step from "off" rarely reaches them), then a (1+1) evolution strategy: a Gaussian step on a
  random subset of the coordinates that matter for the clip (classes it has), its width grown by 1.3 after a
  success and shrunk by 0.9 after a failure. The steps alternate between the incumbent (best run no worse
  than the default in any metric) and the *anchor*, the run with the smallest J + w x excess (``recipe_env.excess``, w = 3 and 10 in turn):
  a recipe that cuts J a lot but raises one metric a little (assist bars cut the PV band and cost some L2) is
  where a small change of the biases may give a run that is better in everything, and a pure feasible-only
  search never steps there.
* ``ppo``: stable-baselines3 PPO on the gymnasium env, one episode per clip, learning across clips online.
* ``random``: uniform recipes in the documented ranges.

Why the bandit is the default: one solver run costs about a second, so a clip gets 32 samples; PPO's policy
gradient needs far more transitions than that to move away from its initial Gaussian, while the bandit
reuses earlier clips' answers directly (measured in tools/opc/README.md, "Recipe search").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.common import InputError, ProgressFn, report
from tools.opc.recipe import RECIPE_CLASSES, SPACE, ClipProblem, Recipe, RunMetrics, load_problem
from tools.opc.recipe_env import Episode, make_env
from tools.opc.recipe_runs import RunLog

__all__ = ("SearchMethod", "SEARCH_METHODS", "ClipSearch", "Prior", "search_clip", "search_clips")

SearchMethod = Literal["bandit", "ppo", "random"]
SEARCH_METHODS: tuple[str, ...] = ("bandit", "ppo", "random")
PRIOR_ARMS = 3
"""Runs spent on the nearest earlier clips' recipes before the local search starts."""
STARTERS: tuple[dict[str, float], ...] = (
    {"sraf_width_nm": 30, "sraf_distance_nm": 120},
    {"pw_weight": 0.5},
    {"sraf_width_nm": 30, "sraf_distance_nm": 120, "pw_weight": 0.5},
    {"sraf_width_nm": 30, "sraf_distance_nm": 120, "serif_nm": 15},
)
"""Global settings the bandit tries over the incumbent after the prior arms: textbook SRAF rule values (one
bar, about the feature pitch out, 30 nm wide), half-weight process-window feedback, and bars with 30 nm corner
serifs (the bars cut the PV band but cost nominal L2, mostly at the corners, which the serifs win back)."""
ANCHOR_EXCESS_WEIGHTS: tuple[float, ...] = (3.0, 10.0)
"""Weights of the excess over the default in the anchor's score ``J + weight * excess``, taken in turn by the
anchor steps: 3 favours a low-J run a few % over the default in L2, 10 a near miss (bars + serifs, L2 1 % over).
Searched alone with the nearest earlier clips' recipes as prior, 3 gave metal:OAI222_X1 12.7 % and
metal:DLH_X1 0.0 %, 10 gave 4.7 and 10.3 %; with weight 1 (before) the anchor was mostly a run far over in L2."""
REDRAWS = 5
"""Draws of an ES step before a repeat of an earlier recipe is accepted."""
NO_CORNERS: dict[str, float] = {"serif_nm": 0, "mousebite_nm": 0}
"""A prior arm whose corner treatments left the PV band above the default's is retried without them (serifs
square the corners, and so cut L2, but add PV band on small contacts)."""
SIGMA0, SIGMA_MIN, SIGMA_MAX = 0.10, 0.03, 0.30
"""Initial, smallest and largest step of the evolution strategy, in unit coordinates."""


class ClipSearch(BaseModel):
    """The outcome of one method's search on one clip."""

    clip: str
    method: str
    budget: int = Field(description="Solver runs allowed, the default recipe included.")
    runs: int = Field(description="Solver runs made (== budget unless resumed from a longer log).")
    new_runs: int = Field(description="Runs actually solved in this call (the rest came from the log).")
    default: RunMetrics
    best: RunMetrics = Field(description="Best J among the runs no worse than the default in L2, EPE and PVB.")
    best_recipe: Recipe
    best_any: RunMetrics = Field(description="Best J among all runs, whatever the other metrics did.")
    best_near: RunMetrics = Field(description="Best J among the runs within 1 % of the default in L2 and PVB, no "
                                  "worse in EPE and mask rules, no assist bar printing (how close the strict "
                                  "condition is).")
    context: list[float] = Field(description="The clip's context vector (tools.opc.recipe_env.CONTEXT_NAMES).")

    @property
    def reduction(self) -> float:
        """J cut of the best feasible recipe against the default, in % of the default J."""
        return 100.0 * (1.0 - self.best.cost / max(self.default.cost, 1.0))


@dataclass
class Prior:
    """What earlier searches found: context -> best coordinates, for the bandit's first arms."""

    contexts: list[np.ndarray] = field(default_factory=list)
    points: list[np.ndarray] = field(default_factory=list)

    def add(self, result: ClipSearch) -> None:
        if result.best.cost < result.default.cost:
            from tools.opc.recipe import encode

            self.contexts.append(np.asarray(result.context))
            self.points.append(encode(result.best_recipe))

    def nearest(self, context: np.ndarray, k: int) -> list[np.ndarray]:
        if not self.contexts:
            return []
        d = np.linalg.norm(np.stack(self.contexts) - context[None, :], axis=1)
        return [self.points[i] for i in np.argsort(d, kind="stable")[:k]]


def _relevant(context: np.ndarray) -> np.ndarray:
    """(len(SPACE),) bool: global coordinates and those of the classes the clip has."""
    present = {name for name, share in zip(RECIPE_CLASSES, context[: len(RECIPE_CLASSES)]) if share > 0}
    return np.asarray([d.path[0] != "classes" or d.path[1] in present for d in SPACE])


def _bandit(ep: Episode, rng: np.random.Generator, prior: Prior | None) -> None:
    mask = _relevant(ep.context)
    for point in (prior.nearest(ep.context, PRIOR_ARMS) if prior else []):
        if ep.left <= 0:
            return
        arm = np.where(mask, point, ep.best_u)
        ep.try_point(arm)
        recipe, run = ep.runs[-1]
        if (recipe.serif_nm or recipe.mousebite_nm) and run.pvb > ep.default.pvb and ep.left > 0:
            ep.try_point(_with(arm, NO_CORNERS))  # corner treatments trade PV band for L2: drop them where PVB is over
    from tools.opc.recipe import decode, encode
    from tools.opc.recipe_env import excess

    for starter in STARTERS:
        if ep.left <= 0:
            return
        point = _with(ep.best_u, starter)
        if not _tried(ep, decode(point)):  # a starter the incumbent already has would spend a run on a repeat
            ep.try_point(point)

    sigma, step, anchor_steps = SIGMA0, 0, 0
    while ep.left > 0:
        chosen = mask & (rng.random(len(SPACE)) < 0.35)
        if not chosen.any():
            chosen[rng.choice(np.flatnonzero(mask))] = True
        improved = ep.best.cost < ep.default.cost
        on_anchor = not improved or step % 2 == 1
        weight = ANCHOR_EXCESS_WEIGHTS[anchor_steps % len(ANCHOR_EXCESS_WEIGHTS)]
        score = lambda m: m.cost + weight * excess(m, ep.default)  # noqa: E731
        anchor_recipe, anchor = min(ep.runs, key=lambda r: score(r[1]))
        centre = encode(anchor_recipe) if on_anchor else ep.best_u
        anchor_steps += on_anchor
        before = (ep.best.cost, score(anchor))
        for _ in range(REDRAWS):  # a step that rounds to a recipe already run is drawn again
            point = centre + np.where(chosen, rng.normal(0.0, sigma, len(SPACE)), 0.0)
            if not _tried(ep, decode(np.clip(point, 0.0, 1.0))):
                break
        ep.try_point(point)
        better = ep.best.cost < before[0] or score(ep.runs[-1][1]) < before[1]
        sigma = min(sigma * 1.3, SIGMA_MAX) if better else max(sigma * 0.9, SIGMA_MIN)
        step += 1


def _tried(ep: Episode, recipe: Recipe) -> bool:
    """Whether this episode has run ``recipe`` already (the solver is deterministic)."""
    return any(recipe == r for r, _ in ep.runs)


def _with(u: np.ndarray, fields: dict[str, float]) -> np.ndarray:
    """``u`` with the named top-level recipe fields set to the given values."""
    out = u.copy()
    for i, d in enumerate(SPACE):
        if d.path[0] in fields:
            out[i] = (fields[d.path[0]] - d.low) / (d.high - d.low)
    return out


def _random(ep: Episode, rng: np.random.Generator) -> None:
    while ep.left > 0:
        ep.try_point(rng.random(len(SPACE)))


def _outcome(ep: Episode, method: str, new_runs: int) -> ClipSearch:
    best_any = min((run for _, run in ep.runs), key=lambda r: r.cost)
    d = ep.default
    near = [r for _, r in ep.runs if r.l2 <= 1.01 * d.l2 and r.pvb <= 1.01 * d.pvb and r.epe <= d.epe
            and r.mrc <= d.mrc and r.sraf_print == 0]
    best_near = min(near, key=lambda r: r.cost)  # the default itself is always near
    from tools.opc.recipe import decode

    return ClipSearch(
        clip=ep.problem.name, method=method, budget=ep.budget, runs=len(ep.runs), new_runs=new_runs,
        default=ep.default, best=ep.best, best_recipe=decode(ep.best_u), best_any=best_any, best_near=best_near,
        context=[float(x) for x in ep.context],
    )


class _Lazy:
    """The clip problem, loaded on the first solver run that is not in the log."""

    def __init__(self, clip: str, sim: object):
        self.clip, self.sim, self.problem, self.solved = clip, sim, None, 0

    def __call__(self) -> ClipProblem:
        if self.problem is None:
            self.problem = load_problem(self.clip, self.sim)
        self.solved += 1
        return self.problem


def _episode(clip: str, sim: object, folder: Path, method: str, budget: int) -> tuple[Episode, _Lazy]:
    lazy = _Lazy(clip, sim)
    log = RunLog(folder, clip)
    evaluate = log.evaluator(lazy, method)
    problem = lazy() if lazy.problem is None else lazy.problem
    lazy.solved = 0  # loading for the context is not a solver run
    return Episode(problem, evaluate, budget), lazy


def search_clip(
    clip: str, method: SearchMethod, budget: int, folder: Path, sim: object, seed: int = 0, prior: Prior | None = None
) -> ClipSearch:
    """Search one clip with the bandit or random search (PPO searches a list: :func:`search_clips`).

    Raises:
        InputError: unknown method, budget below 1, unknown or empty clip.
    """
    if method not in ("bandit", "random"):
        raise InputError("method", method, ("bandit", "random") if method == "ppo" else SEARCH_METHODS)
    ep, lazy = _episode(clip, sim, folder, method, budget)
    rng = np.random.default_rng([seed, _stable_hash(clip)])
    if method == "bandit":
        _bandit(ep, rng, prior)
    else:
        _random(ep, rng)
    return _outcome(ep, method, lazy.solved)


def search_clips(
    clips: list[str],
    method: SearchMethod,
    budget: int,
    folder: Path,
    sim: object,
    seed: int = 0,
    progress: ProgressFn | None = None,
    prior: Prior | None = None,
) -> list[ClipSearch]:
    """Search every clip in order; the bandit's prior grows clip by clip, PPO learns across the list.

    Raises:
        InputError: unknown method, empty clip list, budget below 2 for PPO.
    """
    if method not in SEARCH_METHODS:
        raise InputError("method", method, SEARCH_METHODS)
    if not clips:
        raise InputError("clips", clips, "at least one clip to search")
    if method == "ppo":
        return _ppo(clips, budget, folder, sim, seed, progress)
    prior = prior if prior is not None else Prior()
    out = []
    for i, clip in enumerate(clips):
        result = search_clip(clip, method, budget, folder, sim, seed, prior if method == "bandit" else None)
        prior.add(result)
        out.append(result)
        report(progress, f"{method} search {clip}: J {-result.reduction:+.1f}% vs default", (i + 1) / len(clips))
    return out


def _ppo(clips: list[str], budget: int, folder: Path, sim: object, seed: int, progress: ProgressFn | None) -> list[ClipSearch]:
    """PPO over the clips in order: ``budget - 1`` env steps per clip, one policy update per clip."""
    if budget < 2:
        raise InputError("budget", budget, "at least 2 solver runs for PPO (the default plus one step)")
    from stable_baselines3 import PPO

    opened: list[tuple[Episode, _Lazy]] = []

    def episodes(k: int) -> Episode:
        if k < len(clips):
            opened.append(_episode(clips[k], sim, folder, "ppo", budget))
            report(progress, f"ppo search {clips[k]}", k / len(clips))
            return opened[-1][0]
        return _episode(clips[0], sim, folder, "ppo-tail", 1)[0]  # sb3 resets once more after the last clip

    steps = budget - 1
    agent = PPO(
        "MlpPolicy", make_env(episodes), n_steps=steps, batch_size=steps, n_epochs=10, learning_rate=3e-4,
        gamma=0.9, policy_kwargs={"log_std_init": -2.0, "net_arch": [64, 64]}, seed=seed, device="cpu", verbose=0,
    )
    agent.learn(total_timesteps=steps * len(clips))
    return [_outcome(ep, "ppo", lazy.solved) for ep, lazy in opened]


def _stable_hash(text: str) -> int:
    """A process-independent hash (Python's ``hash`` of a str is salted per process)."""
    import zlib

    return zlib.crc32(text.encode())

