"""The recipe-search environment passes gymnasium's checker and rewards the drop in J."""

from __future__ import annotations

import numpy as np
import pytest

from tools.opc.recipe import W_EPE, Recipe, RunMetrics, encode
from tools.opc.recipe_env import CONTEXT_NAMES, Episode, excess, feasible, make_env


def _fake(recipe: Recipe) -> RunMetrics:
    """A cheap stand-in for the solver: J falls as the gain approaches 0.8; PV band rises with the line-end bias."""
    l2 = 1000 + int(4000 * abs(recipe.gain - 0.8))
    pvb = 2000 + 50 * abs(recipe.of("line_end").bias_nm)
    return RunMetrics(l2=l2, pvb=pvb, epe=0, shots=1, mrc=0, cost=float(l2 + pvb), seconds=0.0)


@pytest.fixture()
def problem(sim):
    from tools.opc.recipe import load_problem

    return load_problem("AND2_X4__0_0", sim)


def test_env_passes_the_gymnasium_checker(problem) -> None:
    from gymnasium.utils.env_checker import check_env

    env = make_env(lambda k: Episode(problem, _fake, budget=8))
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape == (len(CONTEXT_NAMES) + len(encode(Recipe())) + 2,)
    assert info["clip"] == "AND2_X4__0_0"


def test_reward_is_the_drop_in_j_relative_to_the_default(problem) -> None:
    ep = Episode(problem, _fake, budget=3)
    u = encode(Recipe())
    u_better = u.copy()
    u_better[2] = (0.8 - 0.1) / 0.9  # gain 0.8
    reward = ep.try_point(u_better)
    assert reward == pytest.approx((ep.default.cost - ep.best.cost) / ep.default.cost)
    assert reward > 0 and ep.best.cost < ep.default.cost
    assert ep.try_point(u) < 0  # back to the default's J: worse than the incumbent
    assert ep.left == 0
    with pytest.raises(ValueError, match="budget"):
        ep.try_point(u)


def test_a_run_worse_than_the_default_in_one_metric_is_not_kept() -> None:
    base = RunMetrics(l2=100, pvb=100, epe=0, shots=1, mrc=0, cost=200.0, seconds=0.0)
    trade = RunMetrics(l2=150, pvb=10, epe=0, shots=1, mrc=0, cost=160.0, seconds=0.0)
    assert not feasible(trade, base) and excess(trade, base) == 50
    worse_epe = RunMetrics(l2=100, pvb=100, epe=1, shots=1, mrc=0, cost=200.0 + W_EPE, seconds=0.0)
    assert excess(worse_epe, base) == W_EPE
    assert np.isfinite(excess(base, base)) and feasible(base, base)
