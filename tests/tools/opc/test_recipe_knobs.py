"""The resolution-enhancement recipe knobs: process-window feedback, assist bars, and the default left alone."""

from __future__ import annotations

import numpy as np
import pytest

from tools.common import InputError
from tools.opc.recipe import SPACE, Recipe, RunMetrics, decode, encode, parse_recipe

SMALL_CLIP = "AND2_X4__0_0"  # a training contact clip, a solver run in about a second


def test_sraf_width_is_none_or_rule_clean_and_decodes_to_none_below_the_rule() -> None:
    with pytest.raises(InputError) as err:
        parse_recipe({"sraf_width_nm": 12})
    assert err.value.field == "recipe.sraf_width_nm"
    with pytest.raises(InputError) as err:
        parse_recipe({"pw_weight": 1.5})
    assert err.value.field == "recipe.pw_weight"
    i = [d.path for d in SPACE].index(("sraf_width_nm",))
    u = encode(Recipe())
    u[i] = 0.45  # 18 nm: below the 20 nm mask rule
    assert decode(u).sraf_width_nm == 0
    u[i] = 0.75
    assert decode(u).sraf_width_nm == 30
    recipe = Recipe(pw_weight=0.4, sraf_width_nm=28, sraf_distance_nm=110)
    assert decode(encode(recipe)) == recipe


def test_default_recipe_metrics_are_pinned(sim) -> None:
    """The default recipe's numbers on a training clip, as measured before the knobs were added."""
    from tools.opc.recipe import load_problem, solve

    metrics, _ = solve(load_problem(SMALL_CLIP, sim), Recipe())
    assert (metrics.l2, metrics.pvb, metrics.epe, metrics.mrc, metrics.sraf_print) == (28763, 74671, 0, 0, 0)


def test_empty_assist_and_zero_weight_leave_mbopc_unchanged(sim) -> None:
    from tools.opc.mbopc import MBOPCConfig, optimize_mbopc
    from tools.opc.recipe import load_problem

    problem = load_problem(SMALL_CLIP, sim)
    model, _ = problem.model(60)
    plain = optimize_mbopc(model, problem.target, sim, MBOPCConfig(iterations=3))
    same = optimize_mbopc(model, problem.target, sim, MBOPCConfig(iterations=3), pw_weight=0.0,
                          assist=np.zeros_like(problem.target, dtype=bool), upper_nm=np.full(len(model.segs), 10**6))
    np.testing.assert_array_equal(plain.mask, same.mask)
    assert plain.history == same.history


def test_process_window_feedback_keeps_the_smallest_l2_plus_pv_band(sim) -> None:
    from tools.opc.mbopc import MBOPCConfig, optimize_mbopc
    from tools.opc.recipe import load_problem

    problem = load_problem(SMALL_CLIP, sim)
    model, _ = problem.model(60)
    plain = optimize_mbopc(model, problem.target, sim, MBOPCConfig(iterations=4))
    pw = optimize_mbopc(model, problem.target, sim, MBOPCConfig(iterations=4), pw_weight=1.0)
    scores = [h["l2"] + h["pvb"] for h in pw.history]
    assert pw.best_iteration == int(np.argmin(scores))
    assert [h["l2"] for h in pw.history[1:]] != [h["l2"] for h in plain.history[1:]]  # the corners steer the moves


def test_assist_bars_go_into_the_mask_rule_clean_and_do_not_print(sim) -> None:
    from tools.opc.recipe import load_problem, solve

    problem = load_problem(SMALL_CLIP, sim)
    recipe = Recipe(sraf_width_nm=24, sraf_distance_nm=100)
    metrics, result = solve(problem, recipe)
    bars, cap = problem.srafs(60, 100, 24)
    assert bars.any() and (result.mask[bars] == 1).all()
    assert metrics.mrc == 0 and metrics.sraf_print == 0
    assert len(result.polygons) > len(result.segments.loops)  # the bars are polygons of the output too
    assert (result.offsets <= np.maximum(cap, 0)).all()


def test_a_new_mask_rule_violation_or_a_printing_bar_is_not_feasible() -> None:
    from tools.opc.recipe_env import excess, feasible

    base = dict(l2=100, pvb=100, epe=0, shots=10, mrc=0, cost=200.0, seconds=1.0)
    default = RunMetrics(**base)
    assert feasible(RunMetrics(**base), default)
    assert not feasible(RunMetrics(**(base | {"mrc": 1})), default)
    assert excess(RunMetrics(**(base | {"sraf_print": 5})), default) == 600.0


def test_corner_treatment_sizes_are_none_or_rule_clean_and_decode_to_none_below_the_rule() -> None:
    for field, value in (("serif_nm", 6), ("mousebite_nm", 25)):
        with pytest.raises(InputError) as err:
            parse_recipe({field: value})
        assert err.value.field == f"recipe.{field}"
    i = [d.path for d in SPACE].index(("serif_nm",))
    u = encode(Recipe())
    u[i] = 0.45  # 9 nm: below the 10 nm half-size of a 20 nm square
    assert decode(u).serif_nm == 0
    u[i] = 0.7
    assert decode(u).serif_nm == 14
    recipe = Recipe(serif_nm=12, mousebite_nm=10, sraf_width_nm=30)
    assert decode(encode(recipe)) == recipe


def test_serifs_square_the_corners_of_a_contact_clip(sim) -> None:
    """Serifs on the contacts' corners win back nominal L2 (corner rounding) that edge moves alone leave: the
    default recipe's L2 on this clip is 28,763 (pinned above); the mask stays rule-clean."""
    from tools.opc.recipe import load_problem, solve

    serif, result = solve(load_problem(SMALL_CLIP, sim), Recipe(serif_nm=14))
    assert (serif.mrc, serif.epe, serif.sraf_print) == (0, 0, 0)
    assert serif.l2 < 0.95 * 28763
    assert set(np.unique(result.mask)) <= {0.0, 1.0}
